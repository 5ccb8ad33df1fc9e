-- The newest registered embedding model for a backbone, preprocessing version and pooling.
SELECT model_id
FROM embedding_models
WHERE backbone = $backbone AND preprocess_version = $preprocess_version AND pooling = $pooling
ORDER BY registered_at DESC
LIMIT 1;
