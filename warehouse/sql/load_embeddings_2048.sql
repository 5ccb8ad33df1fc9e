-- Merge a lake batch of 2048-dimensional embeddings; the batch holds one row per (sha256, model_id).
INSERT OR REPLACE INTO embeddings_2048
SELECT sha256, model_id, status, error, vector::FLOAT[2048], embedded_at
FROM read_parquet($path);
