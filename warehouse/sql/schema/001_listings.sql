-- Sold listings from scraper exports and from our own scraping, and what could not be read.

-- One row per listing; the latest record of a listing wins.
CREATE TABLE listings (
    source               VARCHAR NOT NULL,      -- marketplace, e.g. 'ebay'
    listing_id           VARCHAR NOT NULL,      -- the marketplace's item id
    title                VARCHAR,
    artist               VARCHAR,               -- as given; may list several, comma-separated
    artists              VARCHAR[],             -- artist split into names
    price                DOUBLE,                -- sold price, in currency
    currency             VARCHAR,               -- ISO 4217
    shipping_cost        DOUBLE,                -- 0 when free, NULL when unknown
    total_price          DOUBLE,                -- price + shipping_cost (NULL when shipping unknown)
    condition            VARCHAR,               -- new | used | NULL when not stated
    condition_raw        VARCHAR,
    media_grade          VARCHAR,               -- Goldmine: M NM VG+ VG G+ G F P, or NULL
    media_grade_raw      VARCHAR,
    sleeve_grade         VARCHAR,
    sleeve_grade_raw     VARCHAR,
    release_year         INTEGER,
    sold                 BOOLEAN NOT NULL,      -- false: ended without a sale
    sold_at              TIMESTAMPTZ,
    query                VARCHAR,               -- the search keyword that found it
    location             VARCHAR,
    image_urls           VARCHAR[],
    item_url             VARCHAR,
    origin               VARCHAR NOT NULL,      -- where this record came from: export file or scraped URL
    record_hash          VARCHAR NOT NULL,      -- sha256 of the raw record, to tell updates from duplicates
    ingested_at          TIMESTAMPTZ NOT NULL,
    raw                  JSON NOT NULL,         -- the record exactly as received
    PRIMARY KEY (source, listing_id)
);

-- Records that could not become a listing, with why.
CREATE TABLE scrape_errors (
    error_id     VARCHAR PRIMARY KEY,           -- sha256 of origin, position and raw: re-reads are idempotent
    source       VARCHAR NOT NULL,
    origin       VARCHAR NOT NULL,              -- file path or URL
    position     INTEGER,                       -- 0-based record index in a file, or NULL for a URL
    reason       VARCHAR NOT NULL,
    raw          VARCHAR,
    recorded_at  TIMESTAMPTZ NOT NULL
);

-- Export files already ingested, by content.
CREATE TABLE ingested_files (
    sha256       VARCHAR PRIMARY KEY,
    path         VARCHAR NOT NULL,
    records      INTEGER NOT NULL,
    listings     INTEGER NOT NULL,
    errors       INTEGER NOT NULL,
    ingested_at  TIMESTAMPTZ NOT NULL
);

-- Lake files loaded into the warehouse.
CREATE TABLE lake_files (
    table_name   VARCHAR NOT NULL,
    path         VARCHAR PRIMARY KEY,
    sha256       VARCHAR NOT NULL,
    rows         BIGINT NOT NULL,
    loaded_at    TIMESTAMPTZ NOT NULL
);

-- Analysts' view: one row per listing that actually sold.
CREATE VIEW sold_prices AS
SELECT
    source,
    listing_id,
    title,
    artist,
    price,
    shipping_cost,
    total_price,
    currency,
    condition,
    media_grade,
    sleeve_grade,
    release_year,
    sold_at,
    query
FROM listings
WHERE sold;
