-- One row per orchestrated run (refresh or price flow): what each stage did, and whether anything was new.
CREATE TABLE pipeline_runs (
    run_id       VARCHAR PRIMARY KEY,   -- the Prefect flow run id (or a uuid outside Prefect)
    flow         VARCHAR NOT NULL,      -- 'refresh' | 'price'
    started_at   TIMESTAMPTZ NOT NULL,  -- when the flow run started
    finished_at  TIMESTAMPTZ NOT NULL,  -- when its report was written
    status       VARCHAR NOT NULL,      -- 'ok' | 'partial' (some stage had failures)
    nothing_new  BOOLEAN NOT NULL,      -- true when no stage did new work
    stages       JSON NOT NULL,         -- list of {stage, done, skipped, failed, failures{reason: n}, note, detail}
    host         VARCHAR                -- machine that ran it
);
