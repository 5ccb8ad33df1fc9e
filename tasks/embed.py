"""Task: embed every downloaded photo that has no vector yet for the current model, with progress."""
from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from soldsight import steps
from tasks import artifacts
from tasks.common import RETRY, settings_for


# embed_pending opens the warehouse per chunk (connect() waits for the file lock), so this task does
# not hold the warehouse-write slot: a price run can get in between chunks.
@task(name="embed", task_run_name="embed-photos", cache_policy=NO_CACHE, **RETRY)
def embed_photos(home: str) -> dict:
    progress = None
    try:
        progress = artifacts.Progress("embed-progress", "photos embedded")
        return steps.embed(settings_for(home), progress=progress)
    finally:
        if progress is not None:
            progress.finish()
