-- Is this embedding model already described in embedding_models?
SELECT count(*) > 0 FROM embedding_models WHERE model_id = $model_id;
