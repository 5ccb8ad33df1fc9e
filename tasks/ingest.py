"""Task: ingest every export in the inbox that the warehouse has not seen (by content)."""
from __future__ import annotations

from collections import Counter

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from soldsight.pipeline import EXPORT_SUFFIXES, pending_files, stage_report
from tasks.common import RETRY_BACKOFF_BASE, RETRY_JITTER, retry_if_transient, settings_for, warehouse_write


@task(name="ingest", task_run_name="ingest-exports", cache_policy=NO_CACHE,
      retries=3, retry_delay_seconds=exponential_backoff(RETRY_BACKOFF_BASE), retry_jitter_factor=RETRY_JITTER,
      retry_condition_fn=retry_if_transient)
def ingest_exports(home: str, paths: list[str] | None = None) -> dict:
    from soldsight.ingest.ingest import ingest_file
    from warehouse.connection import open_warehouse

    settings = settings_for(home)
    files = [str(p) for p in (paths or pending_files(settings.inbox_exports, EXPORT_SUFFIXES))]
    with warehouse_write(), open_warehouse(settings) as con:
        summaries = [ingest_file(con, settings.lake_dir, path) for path in files]
    logger, failures = get_run_logger(), Counter()
    for s in summaries:
        failures.update(s.errors)
        if s.failure:
            failures["file rejected"] += 1
            logger.error("rejected %s", s.failure)
    seen = sum(s.already_ingested for s in summaries)
    return stage_report("ingest", done=sum(s.new + s.updated for s in summaries), skipped=seen,
                        failed=sum(failures.values()), failures=dict(failures),
                        note=f"{len(files) - seen} new export files of {len(files)}",
                        records=sum(s.records for s in summaries), duplicates=sum(s.duplicates for s in summaries))
