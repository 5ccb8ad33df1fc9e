"""The nightly refresh: ingest, scrape, download, embed, load, refit, backtest, report."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from prefect import flow
from prefect.runtime import flow_run
from pydantic import Field

from tasks.common import ensure_limits, install_redaction, settings_for
from tasks.download import download_photos
from tasks.embed import embed_photos
from tasks.ingest import ingest_exports
from tasks.load import load_lake
from tasks.price import backtest, fingerprint, refit_model
from tasks.report import report
from tasks.scrape import scrape_searches


def _run_name() -> str:
    return f"refresh-{datetime.now(timezone.utc):%Y-%m-%d-%H%M%S}"


@flow(name="refresh", flow_run_name=_run_name, log_prints=True)
def refresh(
    home: str | None = None,
    exports: list[str] | None = None,
    searches: list[str] | None = None,
    scrape_pages: Annotated[int, Field(ge=1)] | None = None,
    scrape_items: bool = False,
    download_limit: Annotated[int, Field(ge=0)] | None = None,
    use_proxies: bool = True,
    run_backtest: bool = True,
    force_refit: bool = False,
) -> dict:
    """Bring the warehouse up to date. Every step only does what is new; a quiet night says so.

    home: SOLDSIGHT_HOME for this run (default: the environment's). exports: export files to ingest
    (default: every new file in <home>/inbox/exports). searches: override SOLDSIGHT_SEARCHES.
    scrape_items: also fetch each scraped listing's item page (specifics, every gallery photo).
    force_refit: refit and backtest even when the data they read has not changed.
    scrape_pages below 1 or a negative download_limit fails the run before it starts, naming it.
    """
    started = datetime.now(timezone.utc)
    settings = settings_for(home)
    home = str(settings.home)
    install_redaction()
    ensure_limits(proxy_slots=settings.download_concurrency)

    reports = [ingest_exports(home, exports)]
    reports.append(scrape_searches(home, searches, scrape_pages, use_proxies, scrape_items))
    reports.append(download_photos(home, download_limit, use_proxies))
    reports.append(embed_photos(home))
    reports.append(load_lake(home))
    data = fingerprint(home)  # refit and backtest are cached on it: unchanged data, no refit
    again = {"refresh_cache": True} if force_refit else {}
    reports.append(refit_model.with_options(**again)(home, data))
    if run_backtest:
        reports.append(backtest.with_options(**again)(home, data))
    return report(home, "refresh", str(flow_run.id or started.isoformat()), started, reports)


if __name__ == "__main__":
    refresh()
