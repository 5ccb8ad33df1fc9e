-- Is this exact lake file (path and content) already loaded?
SELECT count(*) > 0 FROM lake_files WHERE path = $path AND sha256 = $sha256;
