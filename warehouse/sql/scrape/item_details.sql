-- Item-page details already read for the given listings.
SELECT listing_id, details
FROM scrape_items
WHERE source = $source AND status = 'ok' AND listing_id IN (SELECT unnest($ids::VARCHAR[]));
