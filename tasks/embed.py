"""Task: embed every downloaded photo that has no vector yet for the current model."""
from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.common import unavailable


@task(name="embed", task_run_name="embed-photos", cache_policy=NO_CACHE)
def embed_photos(home: str) -> dict:
    return unavailable("embed", "soldsight.embed")
