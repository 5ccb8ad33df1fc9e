-- The most rows (photos x rotations) any one listing has in the index $index_id.
SELECT max(n) FROM (SELECT count(*) AS n FROM price_index WHERE index_id = $index_id GROUP BY source, listing_id);
