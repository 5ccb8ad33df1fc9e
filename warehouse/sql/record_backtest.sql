-- One backtest figure row per (run, method).
INSERT INTO backtest_results
    (run_id, method, listings, priced, top1, top5, abstained, mdape, within_25, coverage, params, run_at)
VALUES ($run_id, $method, $listings, $priced, $top1, $top5, $abstained, $mdape, $within_25, $coverage, $params::JSON, now());
