-- The $k sold listings whose photos look most like the query photo, best first, with the similarity.
-- Parameters:
--   $queries    FLOAT[][]   one or more unit vectors for the query photo (its views), in the projection $index_id;
--                           a listing scores its best similarity over its photos, rotations and the query views
--   $index_id   VARCHAR     which price_index projection to search
--   $currency   VARCHAR     only listings sold in this ISO 4217 currency; NULL = any
--   $days       INTEGER     only listings sold within this many days before $now; NULL = any age
--   $now        TIMESTAMPTZ the reference time for $days
--   $exclude    VARCHAR[]   listing ids to leave out (e.g. the held-out listing in a backtest)
--   $k          INTEGER     how many listings to return
--   $candidates INTEGER     rows kept before grouping by listing: k x (most index rows one listing has) x views
--                           keeps the answer exact while grouping only a few rows instead of the whole index
WITH query_views AS (
    SELECT unnest($queries::FLOAT[][]) AS qv
),
scored AS (
    -- Index vectors and query views are unit length, so the inner product is the cosine similarity
    -- (cosine_similarity() gives the same numbers, 30% slower: it also computes both norms).
    SELECT i.source, i.listing_id, i.image_path, list_inner_product(i.vector, v.qv) AS similarity
    FROM price_index AS i
    CROSS JOIN query_views AS v
    WHERE i.index_id = $index_id::VARCHAR
      AND ($currency::VARCHAR IS NULL OR i.currency = $currency::VARCHAR)
      AND ($days::INTEGER IS NULL OR i.sold_at >= $now::TIMESTAMPTZ - to_days($days::INTEGER))
      AND NOT list_contains(coalesce($exclude::VARCHAR[], []::VARCHAR[]), i.listing_id)
    ORDER BY similarity DESC
    LIMIT $candidates::INTEGER
),
per_listing AS (
    SELECT source, listing_id, max(similarity) AS similarity, arg_max(image_path, similarity) AS image_path
    FROM scored
    GROUP BY source, listing_id
    ORDER BY similarity DESC
    LIMIT $k::INTEGER
),
final AS (
    SELECT
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
        p.image_path,           -- the listing photo that matched best, relative to SOLDSIGHT_HOME
        p.similarity            -- cosine similarity, -1..1
    FROM per_listing AS p
    JOIN listings AS l ON l.source = p.source AND l.listing_id = p.listing_id
    WHERE l.sold AND l.total_price IS NOT NULL
)
SELECT * FROM final ORDER BY similarity DESC, listing_id;
