-- Sold listings in the price index whose title and artist words were read on a query photo's sleeve,
-- most words found first, each with its similarity to the photo: the album the image search did not bring
-- among its candidates, when the title on the sleeve was read (soldsight.price.text_search).
-- The agreement here only picks the listings; soldsight.price.text_match scores them again.
-- A listing's words are looked up in listing_words, which each fit writes (schema 008_listing_words.sql).
-- Parameters:
--   $read       VARCHAR     the lines read, squeezed to lower-case letters and digits, joined by '|'
--   $queries    FLOAT[][]   the photo's unit vectors (its views), in the projection $index_id
--   $index_id   VARCHAR     which price_index projection to score against
--   $currency   VARCHAR     only listings sold in this ISO 4217 currency; NULL = any
--   $days       INTEGER     only listings sold within this many days before $now; NULL = any age
--   $now        TIMESTAMPTZ the reference time for $days
--   $least      INTEGER     the fewest characters of a listing's words that must have been read
--   $k          INTEGER     how many listings to return
--   $exclude    VARCHAR[]   listing ids to leave out (the image search's candidates); [] = none
WITH pieces AS (
    -- Every stretch of 3 or more characters of one line read: the words of a listing that were read are
    -- among them, so listing_words is looked up rather than every title split again for every photo.
    SELECT DISTINCT substr($read::VARCHAR, a.start::INTEGER, b.width::INTEGER) AS piece
    FROM range(1, length($read::VARCHAR) + 1) AS a(start), range(3, length($read::VARCHAR) + 1) AS b(width)
    WHERE a.start + b.width - 1 <= length($read::VARCHAR)
      AND NOT contains(substr($read::VARCHAR, a.start::INTEGER, b.width::INTEGER), '|')
),
found AS (
    SELECT w.source, w.listing_id, sum(length(w.word)) AS agreement
    FROM listing_words AS w
    WHERE w.word IN (SELECT piece FROM pieces)
    GROUP BY w.source, w.listing_id
    HAVING sum(length(w.word)) >= $least::INTEGER
),
best AS (
    SELECT f.source, f.listing_id, f.agreement
    FROM found AS f
    JOIN listings AS l ON l.source = f.source AND l.listing_id = f.listing_id
    WHERE l.sold AND l.total_price IS NOT NULL
      AND NOT contains(coalesce(l.artist, ''), ',')   -- a lot names every album in it
      AND NOT list_contains($exclude::VARCHAR[], f.listing_id)
      AND ($currency::VARCHAR IS NULL OR l.currency = $currency::VARCHAR)
      AND ($days::INTEGER IS NULL OR l.sold_at >= $now::TIMESTAMPTZ - to_days($days::INTEGER))
    ORDER BY f.agreement DESC, f.listing_id
    LIMIT $k::INTEGER
),
query_views AS (
    SELECT unnest($queries::FLOAT[][]) AS qv
),
scored AS (
    SELECT i.source, i.listing_id, list_inner_product(i.vector, v.qv) AS similarity, i.image_path
    FROM price_index AS i
    JOIN best AS b ON b.source = i.source AND b.listing_id = i.listing_id
    CROSS JOIN query_views AS v
    WHERE i.index_id = $index_id::VARCHAR
),
per_listing AS (
    SELECT source, listing_id, max(similarity) AS similarity, arg_max(image_path, similarity) AS image_path
    FROM scored
    GROUP BY source, listing_id
)
SELECT
    p.source,
    p.listing_id,
    l.title,
    l.artist,
    l.release_year,
    l.query,
    l.total_price,
    l.currency,
    l.media_grade,
    l.sleeve_grade,
    l.sold_at,
    p.image_path,
    p.similarity
FROM per_listing AS p
JOIN listings AS l ON l.source = p.source AND l.listing_id = p.listing_id
ORDER BY p.similarity DESC, p.listing_id;
