-- price_index again, with its vectors stored uncompressed. Every price query reads the whole vector
-- column, and DuckDB's default float compression (ALPRD) made decoding it most of a one-photo scan:
-- 31 ms of 64 at 100k rows, against 7 ms uncompressed (docs/price.md, session 17). Whitened vectors
-- hardly compress anyway: the file grows by about 20%. The same rows, columns and key as before.
ALTER TABLE price_index RENAME TO price_index_compressed;

-- One row per indexed view of a sold listing's photo: the embedding projected (and whitened) into a
-- short vector, so the comparables scan does less arithmetic. currency and sold_at are copied from
-- listings so the scan filters without a join. Rebuilt by soldsight.price.index.store_index at each fit.
-- The vectors are stored uncompressed (this file replaced 004's table of the same columns).
CREATE TABLE price_index (
    index_id     VARCHAR NOT NULL,      -- embedder model_id + projection version, e.g. 'lite0-gem|pw128-v3'
    source       VARCHAR NOT NULL,      -- listings.source
    listing_id   VARCHAR NOT NULL,      -- listings.listing_id
    sha256       VARCHAR NOT NULL,      -- the photo (images.sha256)
    rotation     SMALLINT NOT NULL,     -- degrees the photo was turned before embedding: 0, 90, 180, 270
    image_path   VARCHAR,               -- images.path, relative to SOLDSIGHT_HOME
    currency     VARCHAR,               -- listings.currency
    sold_at      TIMESTAMPTZ,           -- listings.sold_at
    vector       FLOAT[] NOT NULL USING COMPRESSION uncompressed,  -- unit length; dims given by the projection
    indexed_at   TIMESTAMPTZ NOT NULL,  -- when the fit wrote this row
    PRIMARY KEY (index_id, source, listing_id, sha256, rotation)
);

INSERT INTO price_index SELECT * FROM price_index_compressed;

DROP TABLE price_index_compressed;
