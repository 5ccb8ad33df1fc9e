-- Remember how one search page went (the latest attempt replaces the previous one).
INSERT OR REPLACE INTO scrape_pages
    (search_key, page, url, status, layout, cards, errors, skipped, has_next, reason, attempts, fetched_at)
VALUES
    ($search_key, $page, $url, $status, $layout, $cards, $errors, $skipped, $has_next, $reason, $attempts, now());
