-- Drop the rows of one price index before it is written again (a refit with the same recipe and data).
-- Parameters:
--   $index_id   VARCHAR   the price_index projection to drop
DELETE FROM price_index WHERE index_id = $index_id::VARCHAR;
