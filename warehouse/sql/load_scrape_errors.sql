-- Merge a lake batch of rejected records.
INSERT OR REPLACE INTO scrape_errors
SELECT error_id, source, origin, position, reason, raw, recorded_at
FROM read_parquet($path);
