-- One row per schema file applied to this warehouse.
CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,   -- NNN of warehouse/sql/schema/NNN_name.sql
    name       VARCHAR NOT NULL,      -- the file's name part
    applied_at TIMESTAMPTZ NOT NULL   -- when it was applied
);
