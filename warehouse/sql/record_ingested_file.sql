-- Remember an ingested export by content, with what it held.
INSERT OR REPLACE INTO ingested_files (sha256, path, records, listings, errors, ingested_at)
VALUES ($sha256, $path, $records, $listings, $errors, now());
