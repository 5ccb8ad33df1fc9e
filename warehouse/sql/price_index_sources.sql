-- Photos to index for pricing: every downloaded photo of a sold listing that has a total price.
-- One row per (listing, photo file); a file shared by two listings appears for each.
SELECT DISTINCT
    l.source,
    l.listing_id,
    i.sha256,
    i.path,                 -- relative to SOLDSIGHT_HOME
    l.currency,
    l.sold_at
FROM listings AS l
JOIN images AS i ON i.source = l.source AND i.listing_id = l.listing_id
WHERE l.sold
  AND l.total_price IS NOT NULL
  AND i.status = 'ok'
ORDER BY l.source, l.listing_id, i.sha256;
