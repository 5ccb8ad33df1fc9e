"""Task: download every listing photo not fetched yet, through the proxy pool; progress and proxy health."""
from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from soldsight.pipeline import stage_report
from tasks import artifacts
from tasks.common import (RETRY_BACKOFF_BASE, RETRY_JITTER, proxy_traffic, retry_if_transient, settings_for,
                          warehouse_write)


@task(name="download", task_run_name="download-photos", cache_policy=NO_CACHE,
      retries=2, retry_delay_seconds=exponential_backoff(RETRY_BACKOFF_BASE), retry_jitter_factor=RETRY_JITTER,
      retry_condition_fn=retry_if_transient)
def download_photos(home: str, limit: int | None = None, use_proxies: bool = True) -> dict:
    from soldsight.download import download_pending

    settings = settings_for(home)
    progress = artifacts.Progress("download-progress", "photos downloaded")
    # download_pending holds the warehouse for its whole run, and its workers use the proxy pool.
    with proxy_traffic(settings.download_concurrency), warehouse_write():
        s = download_pending(settings, limit=limit, use_proxy=use_proxies, progress=progress)
    progress.finish()
    artifacts.proxy_health([{k: p.get(k) for k in ("proxy", "state", "successes", "failures", "bans",
                                                   "consecutive_failures", "latency_ms", "cooldowns", "last_error")}
                            for p in s.proxies])
    if s.stopped:
        get_run_logger().warning("download stopped early: %s", artifacts.mask(s.stopped))
    failures = {**dict(s.failed), **{f"{k} (retry next run)": v for k, v in s.failed_transient.items()}}
    return stage_report("download", done=s.downloaded + s.reused, skipped=s.skipped, failed=s.failed_total,
                        failures=failures, note=artifacts.mask(s.stopped or
                                                               f"{s.new_files} new files, {s.retries} retries"),
                        not_attempted=s.not_attempted, bytes=s.bytes)
