-- Which of these listings are stored from a scraper export (their raw is the export record, not a
-- scraped card or item page). A result card knows less than an export, so it never replaces one.
SELECT listing_id
FROM listings
WHERE source = $source
  AND listing_id IN (SELECT unnest($ids::VARCHAR[]))
  AND json_extract(raw, '$.card') IS NULL
  AND json_extract(raw, '$.item') IS NULL;
