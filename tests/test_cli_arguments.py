"""A count below its floor is refused before a command does anything, with the flag named."""
from __future__ import annotations

import pytest

from soldsight import cli

REFUSED = [
    ("price", "--top", "-2"), ("price", "--top", "0"), ("price", "--days", "0"), ("price", "--rerank", "-1"),
    ("backtest", "--top", "0"), ("download", "--limit", "-1"), ("download", "--concurrency", "0"),
    ("embed", "--limit", "-1"), ("embed", "--chunk", "0"), ("embed", "--workers", "0"), ("map", "--top", "0"),
    ("scrape", "--pages", "0"), ("refresh", "--pages", "-1"), ("refresh", "--download-limit", "-5"),
]


@pytest.mark.parametrize("command,flag,value", REFUSED)
def test_a_count_below_its_floor_is_refused(command, flag, value, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SOLDSIGHT_HOME", str(tmp_path / "home"))
    extra = ["--out", str(tmp_path / "m.png")] if command == "map" else ["x.jpg"] if command == "price" else []
    with pytest.raises(SystemExit) as stop:
        cli.main([command, flag, value, *extra])
    assert stop.value.code == 2
    assert f"argument {flag}: must be at least" in capsys.readouterr().err
    assert not (tmp_path / "home").exists()


def test_a_count_that_is_not_a_number_is_refused_by_name(capsys):
    with pytest.raises(SystemExit):
        cli.main(["download", "--limit", "ten"])
    assert "argument --limit: 'ten' is not a whole number" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["-1", "nan", "soon"])
def test_a_page_age_below_zero_is_refused(value, capsys, tmp_path, monkeypatch):
    # A negative --max-age-hours made every saved page stale: the resume state was quietly ignored.
    monkeypatch.setenv("SOLDSIGHT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SOLDSIGHT_MARKETPLACE_URL", "http://127.0.0.1:9")  # nothing listens: no network either way
    with pytest.raises(SystemExit) as stop:
        cli.main(["scrape", "--max-age-hours", value, "--direct"])
    assert stop.value.code == 2
    assert "argument --max-age-hours:" in capsys.readouterr().err
    assert not (tmp_path / "home").exists()


def test_the_floors_admit_their_own_value():
    from soldsight.commands.arguments import at_least

    assert at_least(0)("0") == 0 and at_least(1)("1") == 1 and at_least(1)("250") == 250
    assert at_least(0, float)("0") == 0.0 and at_least(0, float)("0.5") == 0.5


def test_a_negative_limit_is_refused_by_the_plain_functions_too(tmp_path):
    from soldsight.download.run import download_pending
    from soldsight.embed.pending import embed_pending
    from soldsight.settings import Settings

    settings = Settings(home=tmp_path / "home")
    for run in (download_pending, embed_pending):
        # limit=-1 used to slice off the last photo (todo[:-1]) instead of fetching or embedding none.
        with pytest.raises(ValueError, match="limit must be at least 0, not -1"):
            run(settings, limit=-1)
    assert not settings.home.exists()
