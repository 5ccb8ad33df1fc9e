-- What the price model sees of the listings: how many, and the newest ingest time.
SELECT count(*) AS listings, count(*) FILTER (WHERE sold) AS sold, max(ingested_at) AS newest
FROM listings;
