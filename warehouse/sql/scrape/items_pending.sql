-- Listings found on result cards for a search whose item page is neither read nor gone (404/410), most recent first.
SELECT l.listing_id, l.item_url, l.raw
FROM listings AS l
WHERE l.source = $source
  AND l.query = $query
  AND json_extract(l.raw, '$.card') IS NOT NULL
  AND NOT EXISTS (
      SELECT 1 FROM scrape_items AS i
      WHERE i.source = l.source AND i.listing_id = l.listing_id AND i.status IN ('ok', 'gone')
  )
ORDER BY l.sold_at DESC NULLS LAST, l.listing_id
LIMIT $limit;
