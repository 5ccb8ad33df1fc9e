-- Embedding models with at least one usable vector, the most populated first.
SELECT model_id, count(*) AS vectors
FROM embedding_status
WHERE status = 'ok'
GROUP BY model_id
ORDER BY vectors DESC, model_id;
