"""Task: the end-of-run report (summary artifacts, run record, a log line that says if anything was new)."""
from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from soldsight.pipeline import nothing_new, record_run
from tasks import artifacts
from tasks.common import RETRY, settings_for, warehouse_write


@task(name="report", task_run_name="report-{flow}", cache_policy=NO_CACHE, **RETRY)
def report(home: str, flow: str, run_id: str, started_at: datetime, reports: list[dict]) -> dict:
    logger = get_run_logger()
    verdict = artifacts.run_summary(flow, reports)
    for r in reports:
        logger.info("%-9s done=%d skipped=%d failed=%d %s", r["stage"], r["done"], r["skipped"], r["failed"],
                    artifacts.mask(r["note"]))
    status = "partial" if any(r["failed"] for r in reports) else "ok"
    with warehouse_write():
        record_run(settings_for(home), run_id=run_id, flow=flow, started_at=started_at, status=status, reports=reports)
    logger.info(verdict)
    return {"flow": flow, "run_id": run_id, "status": status, "nothing_new": nothing_new(reports),
            "verdict": verdict, "stages": reports}
