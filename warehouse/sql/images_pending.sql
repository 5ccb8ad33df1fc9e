-- Image URLs of listings that still need a download: never tried, or failed and worth another go.
-- $retry_permanent also takes back the ones that failed for good (404, not an image, ...).
WITH wanted AS (
    SELECT DISTINCT source, listing_id, url
    FROM (SELECT source, listing_id, unnest(image_urls) AS url FROM listings)
    WHERE url IS NOT NULL
),
final AS (
    SELECT w.source, w.listing_id, w.url
    FROM wanted AS w
    LEFT JOIN images AS i USING (source, listing_id, url)
    WHERE i.url IS NULL
       OR (i.status = 'failed' AND (NOT i.permanent OR $retry_permanent))
)
SELECT source, listing_id, url FROM final ORDER BY url, source, listing_id;
