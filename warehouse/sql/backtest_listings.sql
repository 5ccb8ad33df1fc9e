-- Held-out candidates for the backtest: sold listings in the index $index_id with their truth.
-- item is the proxy for "the same album": artist + release year (lots of several albums have none).
SELECT
    l.source,
    l.listing_id,
    l.title,
    l.total_price,
    l.currency,
    l.media_grade,
    l.sleeve_grade,
    l.query,
    CASE WHEN l.artist IS NOT NULL AND l.release_year IS NOT NULL AND NOT contains(l.artist, ',')
         THEN lower(trim(l.artist)) || '|' || l.release_year::VARCHAR END AS item,
    list(p.vector ORDER BY p.sha256, p.rotation)[1] AS vector,  -- the listing's first photo, unrotated
    list(p.image_path ORDER BY p.sha256, p.rotation)[1] AS image_path  -- the same photo, for its local features
FROM listings AS l
JOIN price_index AS p ON p.source = l.source AND p.listing_id = l.listing_id
WHERE p.index_id = $index_id AND p.rotation = 0 AND l.sold AND l.total_price IS NOT NULL
GROUP BY ALL
ORDER BY l.source, l.listing_id;
