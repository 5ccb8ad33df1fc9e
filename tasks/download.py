"""Task: download every listing photo not fetched yet, through the proxy pool; progress and proxy health."""
from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from soldsight import steps
from tasks import artifacts
from tasks.common import RETRY, proxy_traffic, settings_for, warehouse_write


@task(name="download", task_run_name="download-photos", cache_policy=NO_CACHE, **RETRY)
def download_photos(home: str, limit: int | None = None, use_proxies: bool = True) -> dict:
    settings = settings_for(home)
    progress = artifacts.Progress("download-progress", "photos downloaded")
    # download_pending holds the warehouse for its whole run, and its threads share the proxy pool.
    with proxy_traffic(settings.download_concurrency), warehouse_write():
        report = steps.download(settings, limit, use_proxies, progress=progress)
    progress.finish()
    artifacts.proxy_health(report["detail"].pop("proxies"))
    return report
