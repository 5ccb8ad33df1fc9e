-- Merge a lake batch of download results; the batch holds one row per (source, listing_id, url).
INSERT OR REPLACE INTO images
SELECT
    source, listing_id, url, status, error, detail, permanent, attempts, sha256, path, width, height,
    format, bytes, fetched_url, http_status, proxy, elapsed_ms, fetched_at
FROM read_parquet($path);
