"""Task: embed every downloaded photo that has no vector yet for the current model, with progress."""
from __future__ import annotations

import re

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from soldsight.pipeline import embed_needed, stage_report
from tasks import artifacts
from tasks.common import RETRY_BACKOFF_BASE, RETRY_JITTER, retry_if_transient, settings_for

_DONE = re.compile(r"^(\d+)/(\d+) photos")


@task(name="embed", task_run_name="embed-photos", cache_policy=NO_CACHE,
      retries=2, retry_delay_seconds=exponential_backoff(RETRY_BACKOFF_BASE), retry_jitter_factor=RETRY_JITTER,
      retry_condition_fn=retry_if_transient)
def embed_photos(home: str) -> dict:
    settings = settings_for(home)
    if not embed_needed(settings):  # spares loading TensorFlow and the model on a quiet night
        return stage_report("embed", note="no new photos to embed")
    from soldsight.embed import embed_pending

    logger, progress = get_run_logger(), artifacts.Progress("embed-progress", "photos embedded")

    def log(message: str) -> None:
        logger.info(message)
        if m := _DONE.match(message):
            progress(int(m[1]), int(m[2]))

    # embed_pending opens the warehouse per chunk (connect() waits for the lock), so it does not
    # hold the warehouse-write slot: a price run can get in between chunks.
    r = embed_pending(settings, log=log)
    progress.finish()
    return stage_report("embed", done=r.embedded, failed=r.failed, failures=r.errors,
                        note=f"{r.model_id}: {r.rate:.0f} photos/s", model_id=r.model_id)
