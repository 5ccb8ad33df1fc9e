-- Stored vectors of one model, each photo with the labels of a listing that shows it, for `soldsight map`.
-- The true album is unknown to the warehouse, so the labels are the listing's search query, artist and title.
WITH vectors AS (
    SELECT sha256, vector::FLOAT[] AS vector FROM embeddings WHERE model_id = $model_id AND status = 'ok'
    UNION ALL
    SELECT sha256, vector::FLOAT[] FROM embeddings_960 WHERE model_id = $model_id AND status = 'ok'
    UNION ALL
    SELECT sha256, vector::FLOAT[] FROM embeddings_2048 WHERE model_id = $model_id AND status = 'ok'
),
labels AS (
    SELECT i.sha256, min(l.query) AS query, min(l.artist) AS artist, min(l.title) AS title
    FROM images AS i
    JOIN listings AS l USING (source, listing_id)
    WHERE i.status = 'ok'
    GROUP BY i.sha256
),
final AS (
    SELECT v.sha256, v.vector, l.query, l.artist, l.title
    FROM vectors AS v
    LEFT JOIN labels AS l USING (sha256)
)
SELECT * FROM final ORDER BY sha256;
