-- What the scraper has done, so an interrupted or repeated run resumes instead of starting over.

-- One row per search result page fetched (the latest attempt wins).
CREATE TABLE scrape_pages (
    search_key   VARCHAR NOT NULL,      -- marketplace|query|category|items per page, e.g. 'https://www.ebay.com|rumours vinyl|0|60'
    page         INTEGER NOT NULL,      -- _pgn, from 1
    url          VARCHAR NOT NULL,      -- the search URL fetched
    status       VARCHAR NOT NULL,      -- results | empty | blocked | unrecognised | failed
    layout       VARCHAR,               -- s-item (older) | s-card (current) | NULL
    cards        INTEGER NOT NULL,      -- listing cards read (sold and ended)
    errors       INTEGER NOT NULL,      -- cards that became scrape_errors rows
    skipped      INTEGER NOT NULL,      -- advert and placeholder cards skipped
    has_next     BOOLEAN NOT NULL,      -- the page links a next page
    reason       VARCHAR,               -- why a page is not done (blocked, failed, unrecognised)
    attempts     INTEGER NOT NULL,      -- HTTP attempts for this page in its latest run
    fetched_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (search_key, page)
);

-- One row per item page; status 'ok' is final (a sold listing no longer changes).
CREATE TABLE scrape_items (
    source       VARCHAR NOT NULL,
    listing_id   VARCHAR NOT NULL,
    url          VARCHAR NOT NULL,
    status       VARCHAR NOT NULL,      -- ok | failed | blocked | gone (404/410: not asked for again)
    reason       VARCHAR,
    details      JSON,                  -- what the item page gave (specifics, gallery, price, dates), when ok
    attempts     INTEGER NOT NULL,
    fetched_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, listing_id)
);
