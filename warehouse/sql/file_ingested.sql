-- Has an export with exactly these bytes been ingested?
SELECT count(*) > 0 FROM ingested_files WHERE sha256 = $sha256;
