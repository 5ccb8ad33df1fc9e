-- Merge a lake batch of rejected records; a record already recorded keeps its first recorded_at.
INSERT OR IGNORE INTO scrape_errors
SELECT error_id, source, origin, position, reason, raw, recorded_at
FROM read_parquet($path);
