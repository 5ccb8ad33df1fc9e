-- Listing photos: one row per (listing, image URL), written by `soldsight download`.

CREATE TABLE images (
    source        VARCHAR NOT NULL,        -- marketplace of the listing, e.g. 'ebay'
    listing_id    VARCHAR NOT NULL,
    url           VARCHAR NOT NULL,        -- the image URL exactly as the listing gave it
    status        VARCHAR NOT NULL,        -- 'ok' | 'failed'
    error         VARCHAR,                 -- failed: short reason (http_404, not_image, timeout, retries ...)
    detail        VARCHAR,                 -- failed: human message, proxy credentials masked
    permanent     BOOLEAN NOT NULL,        -- failed for good (404, 410, not an image, bomb): not retried unless asked
    attempts      INTEGER NOT NULL,        -- HTTP attempts in the run that wrote this row (0: reused a stored URL)
    sha256        VARCHAR,                 -- ok: sha256 of the file bytes (identical photos share it)
    path          VARCHAR,                 -- ok: file relative to SOLDSIGHT_HOME, images/<sha[:2]>/<sha>.<ext>
    width         INTEGER,                 -- ok: pixels
    height        INTEGER,                 -- ok: pixels
    format        VARCHAR,                 -- ok: JPEG | PNG | WEBP | GIF
    bytes         BIGINT,                  -- ok: file size in bytes
    fetched_url   VARCHAR,                 -- the URL that answered (e.g. the s-l1600 variant), NULL if none did
    http_status   INTEGER,                 -- status of the last response, NULL when none came
    proxy         VARCHAR,                 -- masked proxy of the last attempt (user:***@host:port) or 'direct'
    elapsed_ms    DOUBLE,                  -- duration of the last attempt, in milliseconds
    fetched_at    TIMESTAMPTZ NOT NULL,    -- when this row was written
    PRIMARY KEY (source, listing_id, url),
    CHECK (status IN ('ok', 'failed')),
    CHECK (status = 'failed' OR (sha256 IS NOT NULL AND path IS NOT NULL))
);

-- One row per stored photo file (what the embedder reads): identical bytes appear once.
CREATE VIEW image_files AS
SELECT
    sha256,
    min(path)        AS path,
    min(format)      AS format,
    min(width)       AS width,
    min(height)      AS height,
    min(bytes)       AS bytes,
    count(*)         AS listings,       -- (listing, url) rows that point at this file
    max(fetched_at)  AS fetched_at
FROM images
WHERE status = 'ok'
GROUP BY sha256;
