"""Task: download every listing photo not fetched yet, through the proxy pool."""
from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.common import unavailable


@task(name="download", task_run_name="download-photos", cache_policy=NO_CACHE)
def download_photos(home: str, limit: int | None = None, use_proxies: bool = True) -> dict:
    return unavailable("download", "soldsight.download")
