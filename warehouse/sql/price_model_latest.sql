-- The newest fitted model of one kind ($kind: grades | projection | calibration), or nothing.
SELECT model_id, kind, version, params, metrics, artifact, fitted_at
FROM price_models
WHERE kind = $kind
ORDER BY version DESC
LIMIT 1;
