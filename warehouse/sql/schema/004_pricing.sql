-- Pricing: the search index over listing photos, fitted models, every suggestion made, and backtests.

-- One row per indexed view of a sold listing's photo: the embedding projected (and whitened) into a
-- short vector, so the comparables scan does less arithmetic. currency and sold_at are copied from
-- listings so the scan filters without a join. Rebuilt by soldsight.price.index.store_index at each fit.
CREATE TABLE price_index (
    index_id     VARCHAR NOT NULL,      -- embedder model_id + projection version, e.g. 'lite0-gem|pw128-v3'
    source       VARCHAR NOT NULL,      -- listings.source
    listing_id   VARCHAR NOT NULL,      -- listings.listing_id
    sha256       VARCHAR NOT NULL,      -- the photo (images.sha256)
    rotation     SMALLINT NOT NULL,     -- degrees the photo was turned before embedding: 0, 90, 180, 270
    image_path   VARCHAR,               -- images.path, relative to SOLDSIGHT_HOME
    currency     VARCHAR,               -- listings.currency
    sold_at      TIMESTAMPTZ,           -- listings.sold_at
    vector       FLOAT[] NOT NULL,      -- unit length; dims given by the projection
    indexed_at   TIMESTAMPTZ NOT NULL,  -- when the fit wrote this row
    PRIMARY KEY (index_id, source, listing_id, sha256, rotation)
);

-- Fitted models (grade effects, projections, calibrations), each with a version.
CREATE TABLE price_models (
    model_id     VARCHAR PRIMARY KEY,   -- kind + '-v' + version, e.g. 'grades-v3'
    kind         VARCHAR NOT NULL,      -- grades | projection | calibration
    version      INTEGER NOT NULL,      -- increases by one per fit of a kind
    params       JSON NOT NULL,         -- the fitted numbers (grade -> log-price effect, thresholds...)
    metrics      JSON,                  -- how well it fitted (rows used, residual sd...)
    artifact     VARCHAR,               -- file under SOLDSIGHT_HOME/models holding large arrays, or NULL
    fitted_at    TIMESTAMPTZ NOT NULL   -- when the model was fitted
);

-- Every answer given for a photo. Same photo + same inputs + same models => same row (replaced).
CREATE TABLE price_suggestions (
    suggestion_id    VARCHAR PRIMARY KEY,   -- sha256 of photo sha256, inputs and model ids
    photo            VARCHAR NOT NULL,      -- path as given
    photo_sha256     VARCHAR,               -- NULL when the file could not be read
    embed_model_id   VARCHAR,               -- embedding model of the photo (embedding_models.model_id)
    index_id         VARCHAR,               -- the price_index searched (price_index.index_id)
    price_model_id   VARCHAR,               -- grade-effects model used, NULL when none fitted
    inputs           JSON NOT NULL,         -- media, sleeve, top, currency, days, exclude
    status           VARCHAR NOT NULL,      -- ok | no_match | insufficient | error
    reason           VARCHAR,               -- why the status, in words (e.g. the best similarity and the threshold)
    match_listing_id VARCHAR,               -- best match: listings.listing_id, NULL when no match is claimed
    match_title      VARCHAR,               -- best match: its listing title
    similarity       DOUBLE,                -- cosine similarity of the best match
    suggested_price  DOUBLE,                -- in currency, shipping included
    low              DOUBLE,                -- range: low end (calibrated weighted percentile), same currency
    high             DOUBLE,                -- range: high end
    currency         VARCHAR,               -- ISO code of the suggestion and range
    n_comparables    INTEGER,               -- comparables the price was computed from
    output           JSON NOT NULL,         -- the full answer as printed by --json
    created_at       TIMESTAMPTZ NOT NULL   -- when the answer was given
);

-- One row per backtest run and method (the model, and each baseline).
CREATE TABLE backtest_results (
    run_id       VARCHAR NOT NULL,      -- one backtest run (all its methods share it)
    method       VARCHAR NOT NULL,      -- model | global_median | same_query_median
    listings     INTEGER NOT NULL,      -- held-out listings evaluated
    priced       INTEGER NOT NULL,      -- of those, how many got a price
    top1         DOUBLE,                -- identification: share whose best match is the same album
    top5         DOUBLE,                -- identification: share with the same album among the best five
    abstained    DOUBLE,                -- share answered 'no confident match'
    mdape        DOUBLE,                -- median absolute percentage error of the price, as a fraction (0.18 = 18%)
    within_25    DOUBLE,                -- share priced within +-25% of the true total price
    coverage     DOUBLE,                -- share whose true price lies in [low, high]
    params       JSON,                  -- what was tested: index_id, k, threshold, price parameters, grades model
    run_at       TIMESTAMPTZ NOT NULL,  -- when the backtest ran
    PRIMARY KEY (run_id, method)
);
