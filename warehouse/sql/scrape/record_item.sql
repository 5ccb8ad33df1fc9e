-- Remember how one item page went; an 'ok' row is never replaced by a later failure.
INSERT INTO scrape_items (source, listing_id, url, status, reason, details, attempts, fetched_at)
VALUES ($source, $listing_id, $url, $status, $reason, $details, $attempts, now())
ON CONFLICT (source, listing_id) DO UPDATE SET
    url = excluded.url, status = excluded.status, reason = excluded.reason, details = excluded.details,
    attempts = excluded.attempts, fetched_at = excluded.fetched_at
WHERE scrape_items.status <> 'ok' OR excluded.status = 'ok';
