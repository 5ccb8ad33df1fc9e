-- Store a fitted model as the next version of its kind; returns the new model_id.
INSERT INTO price_models (model_id, kind, version, params, metrics, artifact, fitted_at)
SELECT $kind || '-v' || v, $kind, v, $params::JSON, $metrics::JSON, $artifact, now()
FROM (SELECT coalesce(max(version), 0) + 1 AS v FROM price_models WHERE kind = $kind)
RETURNING model_id;
