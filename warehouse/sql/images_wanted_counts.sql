-- How the listings' image URLs stand: ok, failed for good, failed for now, not tried yet.
WITH wanted AS (
    SELECT DISTINCT source, listing_id, url
    FROM (SELECT source, listing_id, unnest(image_urls) AS url FROM listings)
    WHERE url IS NOT NULL
)
SELECT
    count(*)                                                        AS wanted,
    count(*) FILTER (WHERE i.status = 'ok')                         AS ok,
    count(*) FILTER (WHERE i.status = 'failed' AND i.permanent)     AS failed_permanent,
    count(*) FILTER (WHERE i.status = 'failed' AND NOT i.permanent) AS failed_transient,
    count(*) FILTER (WHERE i.url IS NULL)                           AS untried
FROM wanted AS w
LEFT JOIN images AS i USING (source, listing_id, url);
