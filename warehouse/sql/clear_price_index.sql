-- Empty price_index before a fit writes its rows: the warehouse keeps one index, the newest fit's.
-- Rows of earlier fits (another projection, another index_id) would otherwise stay for good, about
-- 100k x 128 floats a night, and nothing reads them once the new model is recorded.
DELETE FROM price_index;
