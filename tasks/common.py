"""What every task shares: settings from a home path, the transient-error retry policy, concurrency limits."""
from __future__ import annotations

import socket
from contextlib import contextmanager
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.concurrency.sync import concurrency
from prefect.tasks import exponential_backoff

from soldsight.settings import Settings
from warehouse.connection import WarehouseBusy

# Global concurrency limits (prefect gcl ls). Proxy traffic: slots = requests in flight through
# the pool, shared by every run on the server. Warehouse writes: 1 slot, because DuckDB has one
# writer per file; warehouse.connect still waits for the file lock when something outside Prefect
# (a `soldsight price` in a shell) holds it.
PROXY_LIMIT = "soldsight-proxy-traffic"
WAREHOUSE_LIMIT = "soldsight-warehouse-write"

# Retries: only for failures that a later attempt can fix. Exponential backoff with jitter.
RETRY_BACKOFF_BASE = 5.0
RETRY_JITTER = 0.5

_TRANSIENT = (WarehouseBusy, ConnectionError, TimeoutError, socket.timeout)


def settings_for(home: str | None) -> Settings:
    """The settings a run uses: SOLDSIGHT_* from the environment, home overridden when given."""
    settings = Settings.from_env()
    return settings.with_home(Path(home)) if home else settings


def is_transient(exc: BaseException) -> bool:
    """A busy warehouse, a dropped connection or a timeout; anything else is a bug or bad input."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, _TRANSIENT):
            return True
        try:
            import requests

            if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
                return True
        except ImportError:  # pragma: no cover - requests is a dependency
            pass
        exc = exc.__cause__ or exc.__context__
    return False


def retry_if_transient(task, task_run, state) -> bool:
    """retry_condition_fn for Prefect tasks: retry only when the failure was transient."""
    try:
        state.result()
    except Exception as exc:  # the task's own exception
        return is_transient(exc)
    return False


# The retry options of every task whose failure may be transient (5, 10, 20 s, each ±50%).
RETRY = dict(retries=3, retry_delay_seconds=exponential_backoff(RETRY_BACKOFF_BASE), retry_jitter_factor=RETRY_JITTER,
             retry_condition_fn=retry_if_transient)


def ensure_limits(proxy_slots: int, warehouse_slots: int = 1) -> None:
    """Create or resize the global concurrency limits; cheap, idempotent, called at flow start."""
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(PROXY_LIMIT, max(1, int(proxy_slots)))
        client.upsert_global_concurrency_limit_by_name(WAREHOUSE_LIMIT, max(1, int(warehouse_slots)))


@contextmanager
def warehouse_write():
    """Hold the one warehouse-writer slot for the block (queues behind other runs' writers)."""
    with concurrency(WAREHOUSE_LIMIT, occupy=1):
        yield


@contextmanager
def proxy_traffic(slots: int):
    """Hold `slots` of the shared proxy budget for the block: two runs never double the load on the pool."""
    # Asking for more slots than the limit has would wait forever: take at most the whole budget.
    with get_client(sync_client=True) as client:
        try:
            budget = client.read_global_concurrency_limit_by_name(PROXY_LIMIT).limit
        except Exception:  # no limit on this server: concurrency() below then just logs and goes on
            budget = slots
    with concurrency(PROXY_LIMIT, occupy=max(1, min(int(slots), int(budget)))):
        yield


def install_redaction() -> None:
    """Redact secrets in every record of the run loggers and of the plain modules' loggers."""
    import logging

    try:
        from soldsight.secrets import RedactingFilter
    except ImportError:  # the download helper's module is not there yet
        return
    for name in ("prefect.flow_runs", "prefect.task_runs", "soldsight"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
