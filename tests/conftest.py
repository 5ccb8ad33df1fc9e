"""Shared test set-up. Fixture modules in tests/fixtures/ are picked up automatically."""
from __future__ import annotations

import os
import pkgutil
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

pytest_plugins = [
    f"tests.fixtures.{m.name}" for m in pkgutil.iter_modules([str(Path(__file__).parent / "fixtures")])
]


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Settings whose home is a fresh temporary folder, and SOLDSIGHT_* cleared."""
    from soldsight.settings import Settings

    for key in list(os.environ):
        if key.startswith("SOLDSIGHT_"):
            monkeypatch.delenv(key)
    home = tmp_path / "home"
    monkeypatch.setenv("SOLDSIGHT_HOME", str(home))
    return Settings.from_env()
