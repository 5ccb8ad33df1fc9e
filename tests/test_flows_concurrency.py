"""Pricing while a refresh holds the warehouse: two processes, one DuckDB file, neither fails."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from tests.fixtures.orchestration import FAST_ENV, write_tiny_export

ROOT = Path(__file__).resolve().parents[1]

REFRESH = "from flows.refresh import refresh; r = refresh(home={home!r}, run_backtest=False); print('STATUS', r['status'])"


def _task_runs(name: str) -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName

    with get_client(sync_client=True) as client:
        return client.read_task_runs(task_run_filter=TaskRunFilter(name=TaskRunFilterName(any_=[name])))


def test_price_flow_during_a_refresh_waits_its_turn_and_both_succeed(prefect_harness, refresh_env, world, tmp_path):
    from prefect.settings import PREFECT_API_URL

    from flows.price import price

    settings = refresh_env
    export = write_tiny_export(world, settings.inbox_exports)
    # Slow photos: the refresh's download step holds the warehouse for seconds.
    world.image_host.faults.set_rate("slow", 1.0, delay=1.0)

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    # Its own PREFECT_HOME: result records (the refit cache) stay in tmp.
    env.update(PREFECT_API_URL=PREFECT_API_URL.value(), PREFECT_HOME=str(tmp_path / "prefect-refresh"),
               PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
               SOLDSIGHT_HOME=str(settings.home), SOLDSIGHT_PROXIES=str(world.proxies_file), **FAST_ENV)
    served_before = world.image_host.counters.get("requests")
    log = open(tmp_path / "refresh.log", "w")
    proc = subprocess.Popen([sys.executable, "-c", REFRESH.format(home=str(settings.home))], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        # RUNNING alone is not enough: the task asks for its slots after it starts. A photo request
        # reaching the image host means the download holds the proxy and warehouse slots.
        while not ([t for t in _task_runs("download-photos") if t.state_type.value == "RUNNING"]
                   and world.image_host.counters.get("requests") > served_before):
            assert proc.poll() is None, (tmp_path / "refresh.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the refresh never reached its download step"
            time.sleep(0.2)

        # The refresh is downloading, holding the warehouse. Price now, in this process.
        priced = price(home=str(settings.home), photos=[], move=False)
        assert proc.wait(timeout=180) == 0, (tmp_path / "refresh.log").read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    assert "STATUS partial" in (tmp_path / "refresh.log").read_text()  # partial: the one missing photo
    assert priced["status"] == "ok"

    download = next(t for t in _task_runs("download-photos") if t.state_type.value == "COMPLETED")
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        runs = dict(con.execute("SELECT flow, finished_at FROM pipeline_runs").fetchall())
        assert set(runs) == {"refresh", "price"}
        # The price run overlapped the download and finished after it: it queued, it did not fail.
        assert runs["price"] > download.end_time
        listings = con.execute("SELECT count(*) FROM listings").fetchall()[0][0]
        images_ok = con.execute("SELECT count(*) FROM images WHERE status = 'ok'").fetchall()[0][0]
        duplicate_keys = con.execute(
            "SELECT count(*) FROM (SELECT source, listing_id, url FROM images GROUP BY ALL HAVING count(*) > 1)"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert listings == export["listings"]
    assert images_ok == export["photos"] and duplicate_keys == 0
