-- Rows per model and status, for the report printed after `soldsight embed`.
SELECT model_id, status, count(*) AS photos
FROM embedding_status
GROUP BY model_id, status
ORDER BY model_id, status;
