-- The stored record hash of each listing in a list of ids, to tell new, updated and duplicate records apart.
SELECT listing_id, record_hash
FROM listings
WHERE source = $source
  AND listing_id IN (SELECT unnest($ids::VARCHAR[]));
