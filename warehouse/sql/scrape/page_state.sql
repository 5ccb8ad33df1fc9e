-- The stored state of one search page: done when it was read fully, recently enough.
SELECT status, has_next, fetched_at >= now() - to_seconds($max_age_seconds) AS fresh
FROM scrape_pages
WHERE search_key = $search_key AND page = $page;
