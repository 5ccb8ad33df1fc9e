-- What the price model sees of the embeddings: usable vectors per model, and the newest.
SELECT model_id, count(*) AS vectors, max(embedded_at) AS newest
FROM embeddings
WHERE status = 'ok'
GROUP BY model_id
ORDER BY model_id;
