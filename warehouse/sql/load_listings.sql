-- Merge a lake batch of normalised listings (one row per key). A listing whose record is
-- unchanged is left as it is, so re-loading a batch changes nothing, not even ingested_at.
INSERT INTO listings
SELECT
    source, listing_id, title, artist, artists, price, currency, shipping_cost, total_price,
    condition, condition_raw, media_grade, media_grade_raw, sleeve_grade, sleeve_grade_raw,
    release_year, sold, sold_at, query, location, image_urls, item_url, origin, record_hash,
    ingested_at, raw
FROM read_parquet($path)
ON CONFLICT (source, listing_id) DO UPDATE SET
    title = excluded.title, artist = excluded.artist, artists = excluded.artists,
    price = excluded.price, currency = excluded.currency, shipping_cost = excluded.shipping_cost,
    total_price = excluded.total_price, condition = excluded.condition, condition_raw = excluded.condition_raw,
    media_grade = excluded.media_grade, media_grade_raw = excluded.media_grade_raw,
    sleeve_grade = excluded.sleeve_grade, sleeve_grade_raw = excluded.sleeve_grade_raw,
    release_year = excluded.release_year, sold = excluded.sold, sold_at = excluded.sold_at,
    query = excluded.query, location = excluded.location, image_urls = excluded.image_urls,
    item_url = excluded.item_url, origin = excluded.origin, record_hash = excluded.record_hash,
    ingested_at = excluded.ingested_at, raw = excluded.raw
WHERE listings.record_hash <> excluded.record_hash;
