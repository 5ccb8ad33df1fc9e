-- comparables.sql for many photos in one scan of the index: per photo, the $k most similar sold listings.
-- Scanning once for all photos costs about a third of one scan per photo (measured in bench/price.py).
-- Parameters as in comparables.sql, plus:
--   $queries   FLOAT[][]   the view vectors of every photo, in order
--   $photos    INTEGER[]   for each entry of $queries, which photo (0-based) it belongs to
--   $candidates            rows kept per photo before grouping by listing
WITH query_views AS (
    SELECT unnest($queries::FLOAT[][]) AS qv, unnest($photos::INTEGER[]) AS photo
),
eligible AS (
    -- Filters first, once per index row, not once per (row, photo) pair.
    SELECT rowid AS rid, vector
    FROM price_index
    WHERE index_id = $index_id::VARCHAR
      AND ($currency::VARCHAR IS NULL OR currency = $currency::VARCHAR)
      AND ($days::INTEGER IS NULL OR sold_at >= $now::TIMESTAMPTZ - to_days($days::INTEGER))
      AND NOT list_contains(coalesce($exclude::VARCHAR[], []::VARCHAR[]), listing_id)
),
pairs AS (
    -- Index vectors and query views are unit length, so the inner product is the cosine similarity,
    -- and 30% cheaper than cosine_similarity() here.
    SELECT v.photo, e.rid, list_inner_product(e.vector, v.qv) AS similarity
    FROM eligible AS e
    CROSS JOIN query_views AS v
),
ranked AS (
    -- Only (photo, row id, similarity) go through the per-photo top-N: carrying the text columns
    -- through it, or ranking in the same SELECT as the cross join, made this step 5-10x slower.
    SELECT photo, rid, similarity
    FROM pairs
    QUALIFY row_number() OVER (PARTITION BY photo ORDER BY similarity DESC) <= $candidates::INTEGER
),
scored AS (
    SELECT r.photo, i.source, i.listing_id, i.image_path, r.similarity
    FROM ranked AS r
    JOIN price_index AS i ON i.rowid = r.rid
),
per_listing AS (
    SELECT photo, source, listing_id, max(similarity) AS similarity, arg_max(image_path, similarity) AS image_path
    FROM scored
    GROUP BY photo, source, listing_id
    QUALIFY row_number() OVER (PARTITION BY photo ORDER BY max(similarity) DESC, listing_id) <= $k::INTEGER
),
final AS (
    SELECT
        p.photo,
        p.source,
        p.listing_id,
        l.title,
        l.artist,
        l.release_year,
        l.query,
        l.total_price,          -- price + shipping, in currency
        l.currency,
        l.media_grade,
        l.sleeve_grade,
        l.sold_at,
        p.image_path,
        p.similarity
    FROM per_listing AS p
    JOIN listings AS l ON l.source = p.source AND l.listing_id = p.listing_id
    WHERE l.sold AND l.total_price IS NOT NULL
)
SELECT * FROM final ORDER BY photo, similarity DESC, listing_id;
