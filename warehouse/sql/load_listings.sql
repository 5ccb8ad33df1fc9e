-- Merge a lake batch of normalised listings (one row per key), in two steps. A listing whose
-- record is unchanged is left as it is, so re-loading a batch changes nothing, not even ingested_at.
-- BY NAME: the lake file's columns are the table's, matched by name rather than listed twice.
-- Listings already stored whose record changed: replaced in place.
INSERT INTO listings BY NAME
SELECT * FROM read_parquet($path) AS batch
WHERE EXISTS (SELECT 1 FROM listings AS stored
              WHERE stored.source = batch.source AND stored.listing_id = batch.listing_id
                AND stored.record_hash <> batch.record_hash)
ON CONFLICT (source, listing_id) DO UPDATE SET
    title = excluded.title, artist = excluded.artist, artists = excluded.artists,
    price = excluded.price, currency = excluded.currency, shipping_cost = excluded.shipping_cost,
    total_price = excluded.total_price, condition = excluded.condition, condition_raw = excluded.condition_raw,
    media_grade = excluded.media_grade, media_grade_raw = excluded.media_grade_raw,
    sleeve_grade = excluded.sleeve_grade, sleeve_grade_raw = excluded.sleeve_grade_raw,
    release_year = excluded.release_year, sold = excluded.sold, sold_at = excluded.sold_at,
    query = excluded.query, location = excluded.location, image_urls = excluded.image_urls,
    item_url = excluded.item_url, origin = excluded.origin, record_hash = excluded.record_hash,
    ingested_at = excluded.ingested_at, raw = excluded.raw;

-- Listings not stored yet: a plain append, several times cheaper than going through ON CONFLICT.
INSERT INTO listings BY NAME
SELECT * FROM read_parquet($path) AS batch
WHERE NOT EXISTS (SELECT 1 FROM listings AS stored
                  WHERE stored.source = batch.source AND stored.listing_id = batch.listing_id);
