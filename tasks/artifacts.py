"""Artifacts the Prefect UI shows: run summary, proxy health, progress, backtest and price reports."""
from __future__ import annotations

import re
import threading
import time

from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from soldsight.pipeline import failure_rows, nothing_new, summary_rows

_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:@/\s]*):(?P<pw>[^@/\s]*)@", re.I)


def mask(text) -> str:
    """Credentials in any URL inside text become user:***, whatever the caller forgot to mask."""
    try:
        from soldsight.secrets import redact  # the download helper's masker, which knows registered secrets
    except ImportError:
        redact = str
    return _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", redact(str(text)))


def _table(rows: list[dict]) -> list[dict]:
    """Table artifacts need at least one row; every cell is masked text or a number."""
    clean = [{k: (v if isinstance(v, (int, float)) or v is None else mask(v)) for k, v in r.items()} for r in rows]
    return clean or [{"note": "nothing to show"}]


def run_summary(flow: str, reports: list[dict]) -> str:
    """Counts per stage and failures by reason, as a table artifact plus a one-line verdict."""
    verdict = ("Nothing new: every stage found no new work."
               if nothing_new(reports) else "New work done; see counts per stage.")
    create_table_artifact(_table(summary_rows(reports)), key=f"{flow}-summary",
                          description=f"{flow}: counts per stage. {verdict}")
    create_table_artifact(_table(failure_rows(reports)), key=f"{flow}-failures",
                          description=f"{flow}: failures by stage and reason, most frequent first.")
    return verdict


def proxy_health(rows: list[dict]) -> None:
    """Per-proxy successes, failures and latency; credentials masked even if a row slipped through."""
    create_table_artifact(_table(rows), key="proxy-health",
                          description="Proxy pool health after the download (credentials masked).")


def markdown(key: str, text: str, description: str) -> None:
    create_markdown_artifact(mask(text), key=key, description=description)


class Progress:
    """A progress artifact that a plain function can drive as `progress(done, total)`.

    Updates are throttled (at most one a second, plus the last one) and safe from worker threads.
    """

    def __init__(self, key: str, description: str, min_interval: float = 1.0):
        self.description = description
        self.min_interval = min_interval
        self._lock = threading.Lock()
        self._last = 0.0
        self._pct = 0.0
        self.artifact_id = create_progress_artifact(0.0, key=key, description=description)

    def __call__(self, done: int, total: int) -> None:
        pct = 100.0 if total <= 0 else min(100.0, 100.0 * done / total)
        now = time.monotonic()
        with self._lock:
            if pct < 100.0 and (now - self._last < self.min_interval or pct <= self._pct):
                return
            self._last, self._pct = now, pct
        update_progress_artifact(self.artifact_id, pct, description=f"{self.description}: {done}/{total}")

    def finish(self) -> None:
        if self._pct < 100.0:
            self._pct = 100.0
            update_progress_artifact(self.artifact_id, 100.0, description=f"{self.description}: done")


def table(key: str, rows: list[dict], description: str) -> None:
    create_table_artifact(_table(rows), key=key, description=mask(description))
