-- Embeddings of downloaded photos, one row per (photo content, model); written by `soldsight embed`.
-- model_id = backbone + '-w' + sha256 of the weights file (12 hex) + '-p' + preprocessing version
--            + '-' + pooling (avg | gem3), e.g. 'lite0-w579344248a93-p1-avg'. A new id means new vectors.

-- 1280-dimensional backbones: lite0 (the default) and efficientnetb0.
CREATE TABLE embeddings (
    sha256       VARCHAR NOT NULL,      -- the photo: images.sha256 (identical bytes share one row)
    model_id     VARCHAR NOT NULL,      -- the embedding model, see embedding_models (e.g. 'lite0-w579344248a93-p1-avg')
    status       VARCHAR NOT NULL,      -- 'ok' | 'failed'
    error        VARCHAR,               -- failed: why (cannot decode, too many pixels, missing file ...)
    vector       FLOAT[1280],           -- ok: L2-normalised (unit length); NULL when failed
    embedded_at  TIMESTAMPTZ NOT NULL,  -- when the photo was embedded (or failed)
    PRIMARY KEY (sha256, model_id),
    CHECK (status IN ('ok', 'failed')),
    CHECK ((status = 'ok') = (vector IS NOT NULL))
);

-- mobilenetv3large: same columns, 960 dimensions.
CREATE TABLE embeddings_960 (
    sha256       VARCHAR NOT NULL,
    model_id     VARCHAR NOT NULL,
    status       VARCHAR NOT NULL,
    error        VARCHAR,
    vector       FLOAT[960],
    embedded_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (sha256, model_id),
    CHECK (status IN ('ok', 'failed')),
    CHECK ((status = 'ok') = (vector IS NOT NULL))
);

-- resnet50: same columns, 2048 dimensions.
CREATE TABLE embeddings_2048 (
    sha256       VARCHAR NOT NULL,
    model_id     VARCHAR NOT NULL,
    status       VARCHAR NOT NULL,
    error        VARCHAR,
    vector       FLOAT[2048],
    embedded_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (sha256, model_id),
    CHECK (status IN ('ok', 'failed')),
    CHECK ((status = 'ok') = (vector IS NOT NULL))
);

-- What each model_id means, written the first time a model embeds anything.
CREATE TABLE embedding_models (
    model_id            VARCHAR PRIMARY KEY, -- backbone, weights digest, preprocessing version and pooling
    backbone            VARCHAR NOT NULL,   -- lite0 | mobilenetv3large | efficientnetb0 | resnet50
    dim                 INTEGER NOT NULL,   -- vector length
    vectors_table       VARCHAR NOT NULL,   -- embeddings | embeddings_960 | embeddings_2048
    weights_sha256      VARCHAR NOT NULL,   -- of the weights file
    preprocess_version  INTEGER NOT NULL,   -- soldsight.embed.preprocess.PREPROCESS_VERSION
    pooling             VARCHAR NOT NULL,   -- avg | gem3 (generalised mean, p = 3)
    registered_at       TIMESTAMPTZ NOT NULL -- when this model first embedded a photo
);

-- Every embedding attempt of every model, whatever its dimension, without the vectors.
CREATE VIEW embedding_status AS
SELECT sha256, model_id, status, error, embedded_at FROM embeddings
UNION ALL
SELECT sha256, model_id, status, error, embedded_at FROM embeddings_960
UNION ALL
SELECT sha256, model_id, status, error, embedded_at FROM embeddings_2048;
