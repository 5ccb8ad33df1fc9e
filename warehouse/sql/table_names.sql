-- Tables present in this warehouse (steps added by later migrations may be absent).
SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main';
