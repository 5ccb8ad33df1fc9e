-- Add the rows registered as new_index_rows (an Arrow table) to price_index under $index_id.
INSERT OR REPLACE INTO price_index
    (index_id, source, listing_id, sha256, rotation, image_path, currency, sold_at, vector, indexed_at)
SELECT $index_id, source, listing_id, sha256, rotation, image_path, currency, sold_at, vector, now()
FROM new_index_rows;
