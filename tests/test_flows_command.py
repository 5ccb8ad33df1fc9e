"""`soldsight refresh`: Prefect's state stays inside SOLDSIGHT_HOME unless a server is named."""
from __future__ import annotations

import os

import pytest

from soldsight.commands import refresh as command

KEYS = ("PREFECT_API_URL", "PREFECT_HOME", command.SLOT_WAIT, command.STARTUP_WAIT, "DO_NOT_TRACK", "PREFECT_SERVER_ANALYTICS_ENABLED",
        "PREFECT_LOGGING_EXTRA_LOGGERS")


@pytest.fixture(autouse=True)
def restored_environment():
    """prefect_environment() writes os.environ directly: put every key back as it was."""
    saved = {k: os.environ.get(k) for k in KEYS}
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def test_local_mode_keeps_prefect_home_inside_soldsight_home(tmp_path, monkeypatch):
    for key in ("PREFECT_API_URL", "PREFECT_HOME", command.SLOT_WAIT, command.STARTUP_WAIT, "DO_NOT_TRACK"):
        monkeypatch.delenv(key, raising=False)
    command.prefect_environment(tmp_path / "home")
    assert os.environ["PREFECT_HOME"] == str((tmp_path / "home" / "prefect").resolve())
    assert (tmp_path / "home" / "prefect").is_dir()
    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false" and os.environ["DO_NOT_TRACK"] == "1"
    assert os.environ[command.SLOT_WAIT] == "1"
    assert int(os.environ[command.STARTUP_WAIT]) > 20   # Prefect's 20 s was too short for a new database once


def test_a_named_server_or_prefect_home_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    monkeypatch.delenv("PREFECT_HOME", raising=False)
    command.prefect_environment(tmp_path / "home")
    assert "PREFECT_HOME" not in os.environ and not (tmp_path / "home" / "prefect").exists()
    monkeypatch.delenv("PREFECT_API_URL")
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "mine"))
    command.prefect_environment(tmp_path / "home")
    assert os.environ["PREFECT_HOME"] == str(tmp_path / "mine")


def test_the_stage_table_lists_every_stage_and_the_verdict():
    from soldsight.pipeline import stage_report

    result = {"stages": [stage_report("ingest", done=3), stage_report("download", failed=1, failures={"not_found": 1})],
              "verdict": "New work done; see counts per stage."}
    text = command.format_report(result)
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["stage", "done", "skipped", "failed"]
    assert lines[1].split()[:4] == ["ingest", "3", "0", "0"] and "not_found: 1" in lines[2]
    assert lines[-1] == "New work done; see counts per stage."
