-- Sold listings from scraper exports and from our own scraping, and what could not be read.

-- One row per listing; the latest record of a listing wins.
CREATE TABLE listings (
    source               VARCHAR NOT NULL,      -- marketplace, e.g. 'ebay'
    listing_id           VARCHAR NOT NULL,      -- the marketplace's item id
    title                VARCHAR,               -- the seller's title, as listed
    artist               VARCHAR,               -- as given; may list several, comma-separated
    artists              VARCHAR[],             -- artist split into names
    price                DOUBLE,                -- sold price, in currency
    currency             VARCHAR,               -- ISO 4217
    shipping_cost        DOUBLE,                -- 0 when free, NULL when unknown
    total_price          DOUBLE,                -- price + shipping_cost (NULL when shipping unknown)
    condition            VARCHAR,               -- new | used | NULL when not stated
    condition_raw        VARCHAR,               -- the condition text as received
    media_grade          VARCHAR,               -- Goldmine: M NM VG+ VG G+ G F P, or NULL
    media_grade_raw      VARCHAR,               -- the record (vinyl) grading text as received
    sleeve_grade         VARCHAR,               -- Goldmine grade of the sleeve, or NULL
    sleeve_grade_raw     VARCHAR,               -- the sleeve grading text as received
    release_year         INTEGER,               -- year of release (1880-2100), NULL when absent or implausible
    sold                 BOOLEAN NOT NULL,      -- false: ended without a sale
    sold_at              TIMESTAMPTZ,           -- when it sold (or ended), as an instant
    query                VARCHAR,               -- the search keyword that found it
    location             VARCHAR,               -- where the item was shipped from
    image_urls           VARCHAR[],             -- photo URLs of the listing, main photo first
    item_url             VARCHAR,               -- the listing's page
    origin               VARCHAR NOT NULL,      -- where this record came from: export file or scraped URL
    record_hash          VARCHAR NOT NULL,      -- sha256 of the raw record, to tell updates from duplicates
    ingested_at          TIMESTAMPTZ NOT NULL,  -- when this version of the listing was stored
    raw                  JSON NOT NULL,         -- the record exactly as received
    PRIMARY KEY (source, listing_id)
);

-- Records that could not become a listing, with why.
CREATE TABLE scrape_errors (
    error_id     VARCHAR PRIMARY KEY,           -- sha256 of origin, position and raw: re-reads are idempotent
    source       VARCHAR NOT NULL,              -- marketplace, e.g. 'ebay'
    origin       VARCHAR NOT NULL,              -- 'export:<file>' or the URL it came from
    position     INTEGER,                       -- 0-based record index in a file, or NULL for a URL
    reason       VARCHAR NOT NULL,              -- why it was rejected, e.g. 'price is not a number: ...'
    raw          VARCHAR,                       -- the record as received
    recorded_at  TIMESTAMPTZ NOT NULL           -- when it was first rejected
);

-- Export files already ingested, by content.
CREATE TABLE ingested_files (
    sha256       VARCHAR PRIMARY KEY,           -- of the file's bytes
    path         VARCHAR NOT NULL,              -- where it was read from
    records      INTEGER NOT NULL,              -- records in the file
    listings     INTEGER NOT NULL,              -- distinct listings it held
    errors       INTEGER NOT NULL,              -- records rejected into scrape_errors
    ingested_at  TIMESTAMPTZ NOT NULL           -- when
);

-- Lake files loaded into the warehouse.
CREATE TABLE lake_files (
    table_name   VARCHAR NOT NULL,              -- the warehouse table it was merged into
    path         VARCHAR PRIMARY KEY,           -- the Parquet file under $SOLDSIGHT_HOME/lake/
    sha256       VARCHAR NOT NULL,              -- of the file's bytes when loaded
    rows         BIGINT NOT NULL,               -- rows in the file
    loaded_at    TIMESTAMPTZ NOT NULL           -- when
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
