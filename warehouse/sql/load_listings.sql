-- Merge a lake batch of normalised listings; the batch already holds one row per key.
INSERT OR REPLACE INTO listings
SELECT
    source, listing_id, title, artist, artists, price, currency, shipping_cost, total_price,
    condition, condition_raw, media_grade, media_grade_raw, sleeve_grade, sleeve_grade_raw,
    release_year, sold, sold_at, query, location, image_urls, item_url, origin, record_hash,
    ingested_at, raw
FROM read_parquet($path);
