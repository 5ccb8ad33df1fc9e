-- Remember that a lake file (by path and content hash) is in the warehouse.
INSERT OR REPLACE INTO lake_files (table_name, path, sha256, rows, loaded_at)
VALUES ($table_name, $path, $sha256, $rows, now());
