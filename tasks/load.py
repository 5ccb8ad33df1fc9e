"""Task: merge lake files that are not in the warehouse yet (after a crash, or written by another step)."""
from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from soldsight.pipeline import load_lake as load
from tasks.common import RETRY, settings_for, warehouse_write


@task(name="load-lake", task_run_name="load-pending-lake-files", cache_policy=NO_CACHE, **RETRY)
def load_lake(home: str) -> dict:
    with warehouse_write():
        return load(settings_for(home))
