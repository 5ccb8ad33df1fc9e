-- Merge a lake batch describing embedding models.
INSERT OR REPLACE INTO embedding_models
SELECT model_id, backbone, dim, vectors_table, weights_sha256, preprocess_version, pooling, registered_at
FROM read_parquet($path);
