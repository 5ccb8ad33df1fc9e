"""Task: scrape the configured searches through the proxy pool (its share of the proxy budget held)."""
from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from soldsight import steps
from tasks.common import proxy_traffic, settings_for


# No task-level retries: the scraper retries pages itself, and resumes where it stopped next run.
@task(name="scrape", task_run_name="scrape-searches", cache_policy=NO_CACHE)
def scrape_searches(home: str, searches: list[str] | None = None, pages: int | None = None,
                    use_proxies: bool = True, items: bool = False) -> dict:
    with proxy_traffic(1):  # pages are fetched one at a time
        return steps.scrape(settings_for(home), searches, pages, use_proxies, items)
