-- Drop the index rows of every projection but the one just recorded: each refit whose whitening changed
-- (new photos) writes a new index_id, and nothing reads the old rows once the new model is recorded.
-- Parameters:
--   $index_id   VARCHAR   the index to keep
DELETE FROM price_index WHERE index_id <> $index_id::VARCHAR;
