-- Scraped listings per search keyword: sold, ended unsold, and how many have their item page read.
SELECT
    l.query,
    count(*) FILTER (WHERE l.sold)                      AS sold,
    count(*) FILTER (WHERE NOT l.sold)                  AS ended_unsold,
    count(*) FILTER (WHERE json_extract(l.raw, '$.item') IS NOT NULL) AS with_item_page
FROM listings AS l
WHERE l.source = $source
  AND (json_extract(l.raw, '$.card') IS NOT NULL OR json_extract(l.raw, '$.item') IS NOT NULL)
GROUP BY l.query
ORDER BY l.query;
