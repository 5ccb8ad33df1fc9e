"""Task: scrape the configured searches through the proxy pool."""
from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.common import unavailable


@task(name="scrape", task_run_name="scrape-searches", cache_policy=NO_CACHE)
def scrape_searches(home: str, searches: list[str] | None = None, pages: int | None = None) -> dict:
    return unavailable("scrape", "soldsight.scrape")
