-- Remember what one orchestrated run did; re-recording the same run id replaces its row.
INSERT OR REPLACE INTO pipeline_runs (run_id, flow, started_at, finished_at, status, nothing_new, stages, host)
VALUES ($run_id, $flow, $started_at, $finished_at, $status, $nothing_new, $stages, $host);
