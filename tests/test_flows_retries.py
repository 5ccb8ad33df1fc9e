"""Tasks retry what a later attempt can fix (a warehouse held by another process), and nothing else."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

HOLD = """
import sys, time
from pathlib import Path
from soldsight.settings import Settings
from warehouse.connection import open_warehouse
with open_warehouse(Settings().with_home(Path(sys.argv[1]))):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_transient_errors_are_told_apart_from_bugs():
    import requests

    from tasks.common import is_transient
    from warehouse.connection import WarehouseBusy

    assert is_transient(WarehouseBusy("held"))
    assert is_transient(requests.ConnectionError("reset"))
    assert is_transient(TimeoutError())
    try:
        try:
            raise WarehouseBusy("held")
        except WarehouseBusy as exc:
            raise RuntimeError("while loading") from exc
    except RuntimeError as wrapped:
        assert is_transient(wrapped)  # the cause counts
    assert not is_transient(ValueError("bad grade"))
    assert not is_transient(KeyError("price"))


def test_a_busy_warehouse_is_retried_until_it_is_free(prefect_harness, settings, monkeypatch):
    from prefect import flow

    from tasks.load import load_lake

    monkeypatch.setenv("SOLDSIGHT_LOCK_TIMEOUT", "0.5")  # each attempt gives up fast ...
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(settings.home), "4"], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        quick = load_lake.with_options(retry_delay_seconds=1.5, retry_jitter_factor=0)  # ... and waits 1.5 s

        @flow
        def load_while_busy():
            state = quick(str(settings.home), return_state=True)
            return state, state.result()

        started = time.monotonic()
        state, report = load_while_busy()
    finally:
        holder.wait(timeout=30)
    assert state.is_completed() and report["stage"] == "load"
    assert time.monotonic() - started >= 2.0, "it cannot have finished while the other process held the file"


def test_a_bug_is_not_retried(prefect_harness, settings, monkeypatch):
    from prefect import flow

    from tasks.ingest import ingest_exports

    calls = []
    import soldsight.steps

    def broken(settings, paths=None):
        calls.append(1)
        raise ValueError("a bug, not a transient failure")

    monkeypatch.setattr(soldsight.steps, "ingest", broken)

    @flow
    def ingest_once():
        state = ingest_exports.with_options(retry_delay_seconds=0)(str(settings.home), return_state=True)
        with pytest.raises(ValueError):
            state.result()
        return state.is_failed()

    assert ingest_once() is True
    assert calls == [1], "a non-transient failure was retried"
