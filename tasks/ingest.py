"""Task: ingest every export in the inbox that the warehouse has not seen (by content)."""
from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from soldsight import steps
from tasks.common import RETRY, settings_for, warehouse_write


@task(name="ingest", task_run_name="ingest-exports", cache_policy=NO_CACHE, **RETRY)
def ingest_exports(home: str, paths: list[str] | None = None) -> dict:
    with warehouse_write():
        return steps.ingest(settings_for(home), paths)
