-- Sold listings in the price index whose title and artist words were read on a query photo's sleeve,
-- most words found first, each with its similarity to the photo: the album the image search did not bring
-- among its candidates, when the title on the sleeve was read (soldsight.price.text_search).
-- The agreement here only picks the listings; soldsight.price.text_match scores them again.
-- Parameters:
--   $read       VARCHAR     the lines read, squeezed to lower-case letters and digits, joined by '|'
--   $queries    FLOAT[][]   the photo's unit vectors (its views), in the projection $index_id
--   $index_id   VARCHAR     which price_index projection to score against
--   $currency   VARCHAR     only listings sold in this ISO 4217 currency; NULL = any
--   $days       INTEGER     only listings sold within this many days before $now; NULL = any age
--   $now        TIMESTAMPTZ the reference time for $days
--   $least      INTEGER     the fewest characters of a listing's words that must have been read
--   $k          INTEGER     how many listings to return
WITH words AS (
    -- A listing's words, split on spaces and the separators text_match.words splits on. Punctuation inside
    -- a word is kept ('rare!'), so such a word is not found here though text_match would squeeze and find it:
    -- a regular expression per listing cost 3.5x the time (233-265 against 66-71 ms at 100k listings).
    SELECT DISTINCT l.source, l.listing_id,
           unnest(string_split(translate(lower(coalesce(l.title, '') || ' ' || coalesce(l.artist, '')),
                                         '/,&+-', '     '), ' ')) AS word
    FROM listings AS l
    WHERE l.sold AND l.total_price IS NOT NULL
      AND NOT contains(coalesce(l.artist, ''), ',')   -- a lot names every album in it
      AND ($currency::VARCHAR IS NULL OR l.currency = $currency::VARCHAR)
      AND ($days::INTEGER IS NULL OR l.sold_at >= $now::TIMESTAMPTZ - to_days($days::INTEGER))
),
best AS (
    SELECT source, listing_id, sum(length(word)) AS agreement
    FROM words
    WHERE length(word) >= 3 AND contains($read::VARCHAR, word)
    GROUP BY source, listing_id
    HAVING sum(length(word)) >= $least::INTEGER
    ORDER BY agreement DESC, listing_id
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
