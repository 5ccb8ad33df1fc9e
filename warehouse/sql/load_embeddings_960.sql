-- Merge a lake batch of 960-dimensional embeddings; the batch holds one row per (sha256, model_id).
INSERT OR REPLACE INTO embeddings_960
SELECT sha256, model_id, status, error, vector::FLOAT[960], embedded_at
FROM read_parquet($path);
