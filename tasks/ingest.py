"""Task: ingest every export in the inbox that the warehouse has not seen (by content)."""
from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from soldsight.pipeline import EXPORT_SUFFIXES, pending_files, stage_report
from tasks.common import (RETRY_BACKOFF_BASE, RETRY_JITTER, retry_if_transient, settings_for, unavailable,
                          warehouse_write)


@task(name="ingest", task_run_name="ingest-exports", cache_policy=NO_CACHE,
      retries=3, retry_delay_seconds=exponential_backoff(RETRY_BACKOFF_BASE), retry_jitter_factor=RETRY_JITTER,
      retry_condition_fn=retry_if_transient)
def ingest_exports(home: str, paths: list[str] | None = None) -> dict:
    settings = settings_for(home)
    files = [str(p) for p in (paths or pending_files(settings.inbox_exports, EXPORT_SUFFIXES))]
    get_run_logger().info("%d export files to consider", len(files))
    return unavailable("ingest", "soldsight.ingest")
