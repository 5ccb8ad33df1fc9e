-- Every photo file one price index holds (relative to SOLDSIGHT_HOME), once each: the photos whose
-- local features are stored for re-ranking.
-- Parameters:
--   $index_id   VARCHAR   the price_index projection
SELECT DISTINCT image_path
FROM price_index
WHERE index_id = $index_id::VARCHAR
ORDER BY image_path;
