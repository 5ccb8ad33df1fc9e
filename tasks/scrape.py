"""Task: scrape the configured searches through the proxy pool (its share of the proxy budget held)."""
from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from soldsight.pipeline import stage_report
from tasks.common import proxy_traffic, settings_for


@task(name="scrape", task_run_name="scrape-searches", cache_policy=NO_CACHE)
def scrape_searches(home: str, searches: list[str] | None = None, pages: int | None = None,
                    use_proxies: bool = True) -> dict:
    from soldsight.scrape.run import scrape_searches as scrape

    settings = settings_for(home)
    queries = list(searches if searches is not None else settings.searches)
    if not queries:
        return stage_report("scrape", note="no searches configured (SOLDSIGHT_SEARCHES)")
    # Pages are fetched one at a time: one slot of the shared proxy budget.
    with proxy_traffic(1):
        s = scrape(settings, queries, pages, use_proxy=use_proxies)
    if s["stopped"]:
        get_run_logger().warning("scrape stopped early: %s", s["stopped"])
    return stage_report("scrape", done=s["new"] + s["updated"], skipped=s["unchanged"], failed=s["error_count"],
                        failures=s["errors"], note=s["stopped"] or f"{len(queries)} searches, pages {s['pages']}",
                        pages=s["pages"])
