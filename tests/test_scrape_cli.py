"""`soldsight scrape`: --query against the local marketplace, and --html for pages saved from a browser."""
from __future__ import annotations

import pytest

from soldsight.cli import main
from soldsight.settings import Settings
from tests.fixtures.scrape import small_catalogue
from warehouse.connection import open_warehouse
from world.marketplace import PAGES, Marketplace


def query(sql):
    with open_warehouse(Settings.from_env()) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def saved_pages(tmp_path):
    """A saved result page (older layout), a saved item page, a block page and a page of something else."""
    with Marketplace(small_catalogue(), layout="s-item") as market:
        files = {
            "search.html": market.search_page({"_nkw": "rumours", "_pgn": "1", "_ipg": "60"}),
            "item.html": market.item_page("187000000001"),
            "blocked.html": (PAGES / "block.html").read_text(),
            "other.html": "<html><body><p>My record collection</p></body></html>",
        }
    folder = tmp_path / "saved"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_html_files_become_listings_and_errors(settings, saved_pages, capsys):
    assert main(["scrape", "--html", str(saved_pages)]) == 0
    out = capsys.readouterr().out
    assert "cards: 12 (10 sold, 2 ended unsold)" in out and "errors: 2" in out
    listings = dict(query("SELECT listing_id, origin FROM listings"))
    assert len(listings) == 13
    assert listings["187000000001"] == "html:item.html" and listings["186000000001"] == "html:search.html"
    wall = query("SELECT media_grade, media_grade_raw, sleeve_grade, query FROM listings WHERE listing_id = '187000000001'")
    assert wall == [("VG", "E-", None, None)]
    assert query("SELECT DISTINCT query FROM listings WHERE origin = 'html:search.html'") == [("rumours",)]
    errors = dict(query("SELECT origin, reason FROM scrape_errors"))
    assert errors["html:blocked.html"].startswith("blocked page")
    assert errors["html:other.html"].startswith("unrecognised page")
    # Reading the same files again changes nothing.
    assert main(["scrape", "--html", str(saved_pages)]) == 0
    assert "listings: 0 new, 0 updated, 13 unchanged" in capsys.readouterr().out
    assert query("SELECT count(*) FROM listings") == [(13,)] and query("SELECT count(*) FROM scrape_errors") == [(2,)]


def test_missing_html_file_is_a_usage_error(settings, tmp_path, capsys):
    assert main(["scrape", "--html", str(tmp_path / "nope.html")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_query_scrapes_the_marketplace(settings, monkeypatch, capsys):
    monkeypatch.setenv("SOLDSIGHT_SCRAPE_RATE", "500")
    monkeypatch.setenv("SOLDSIGHT_USER_AGENT", "soldsight-cli-test")
    with Marketplace(small_catalogue(), layout="s-card") as market:
        code = main(["scrape", "--query", "rumours", "--pages", "2", "--items", "--direct", "--marketplace", market.url])
        assert market.counters.by_key("agents") == {"soldsight-cli-test": 13}
    out = capsys.readouterr().out
    assert code == 0
    assert "pages: 1 results" in out and "listings: 12 new, 0 updated" in out   # item pages complete new rows, not update them and "item pages: 12 ok" in out
    assert "rumours: 10 sold, 2 ended unsold, 12 with item page" in out
    assert query("SELECT count(*) FROM listings WHERE media_grade = 'VG+'") == [(12,)]


def test_no_query_and_no_configured_searches_is_a_usage_error(settings, capsys):
    assert main(["scrape"]) == 2
    assert "SOLDSIGHT_SEARCHES" in capsys.readouterr().err


def test_help_names_both_modes(capsys):
    with pytest.raises(SystemExit):
        main(["scrape", "--help"])
    out = capsys.readouterr().out
    assert "--query" in out and "--html" in out and "--items" in out and "--pages" in out
