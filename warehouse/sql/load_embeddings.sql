-- Merge a lake batch of 1280-dimensional embeddings; the batch holds one row per (sha256, model_id).
INSERT OR REPLACE INTO embeddings
SELECT sha256, model_id, status, error, vector::FLOAT[1280], embedded_at
FROM read_parquet($path);
