-- Downloaded photos (one path per content hash) that have no embedding row yet for $model_id.
-- Failed rows count as done unless $retry_failed, so re-running embeds nothing new.
WITH downloaded AS (
    SELECT sha256, min(path) AS path
    FROM images
    WHERE status = 'ok' AND sha256 IS NOT NULL AND path IS NOT NULL
    GROUP BY sha256
),
done AS (
    SELECT sha256
    FROM embedding_status
    WHERE model_id = $model_id AND (status = 'ok' OR NOT $retry_failed)
),
final AS (
    SELECT d.sha256, d.path
    FROM downloaded AS d
    ANTI JOIN done USING (sha256)
)
SELECT sha256, path FROM final ORDER BY sha256;
