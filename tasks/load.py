"""Task: merge lake files that are not in the warehouse yet (after a crash, or written by another step)."""
from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from soldsight.pipeline import stage_report
from tasks.common import RETRY_BACKOFF_BASE, RETRY_JITTER, retry_if_transient, settings_for, warehouse_write
from warehouse.connection import open_warehouse
from warehouse.lake import load_pending
from warehouse.sql_files import SQL_DIR
from prefect.tasks import exponential_backoff

# Parents before children: listings before the tables that refer to them.
_FIRST = ["listings", "scrape_errors"]


def lake_tables(lake_dir) -> list[str]:
    """Lake folders that have a load_<table>.sql merge, listings first."""
    found = [p.name for p in sorted(lake_dir.iterdir()) if p.is_dir() and (SQL_DIR / f"load_{p.name}.sql").is_file()] \
        if lake_dir.is_dir() else []
    return [t for t in _FIRST if t in found] + [t for t in found if t not in _FIRST]


@task(name="load-lake", task_run_name="load-pending-lake-files", cache_policy=NO_CACHE,
      retries=3, retry_delay_seconds=exponential_backoff(RETRY_BACKOFF_BASE), retry_jitter_factor=RETRY_JITTER,
      retry_condition_fn=retry_if_transient)
def load_lake(home: str) -> dict:
    settings = settings_for(home)
    tables = lake_tables(settings.lake_dir)
    with warehouse_write(), open_warehouse(settings) as con:
        loaded = load_pending(con, settings.lake_dir, tables)
    get_run_logger().info("lake files loaded: %s", loaded or "none pending")
    return stage_report("load", done=sum(loaded.values()), note=f"{len(loaded)} tables had new lake files",
                        rows=loaded)
