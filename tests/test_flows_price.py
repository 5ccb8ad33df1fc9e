"""The price flow: photos from the inbox priced against a refreshed warehouse, stored, filed, reported."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

from tests.fixtures.orchestration import cover, write_tiny_export


def test_price_flow_prices_the_inbox_stores_suggestions_and_files_each_photo(prefect_harness, refresh_env, world):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from flows.price import price
    from flows.refresh import refresh

    settings = refresh_env
    write_tiny_export(world, settings.inbox_exports, albums=5, per_album=4)
    refreshed = refresh(home=str(settings.home), run_backtest=False)
    assert {r["stage"]: r for r in refreshed["stages"]}["embed"]["done"] == 20

    inbox = settings.inbox_photos
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "album2.jpg").write_bytes(cover(2, variant=7))   # a new photo of a known album
    (inbox / "notes.jpg").write_text("not an image at all")    # bad input: an error row, not a crash
    (inbox / "empty.png").write_bytes(b"")
    # A phone's photo as an iPhone names it: HEIC, upper-case suffix.
    shutil.copy(Path(__file__).parent / "fixtures" / "photos" / "sleeve.heic", inbox / "IMG_0001.HEIC")

    result = price(home=str(settings.home), media="VG+", sleeve="VG")

    by_name = {r["photo"].rsplit("/", 1)[-1]: r for r in result["results"]}
    assert set(by_name) == {"album2.jpg", "notes.jpg", "empty.png", "IMG_0001.HEIC"}
    assert by_name["notes.jpg"]["status"] == "error" and by_name["empty.png"]["status"] == "error"
    assert by_name["album2.jpg"]["status"] in ("ok", "no_match", "insufficient")
    assert by_name["IMG_0001.HEIC"]["status"] in ("ok", "no_match", "insufficient"), by_name["IMG_0001.HEIC"]
    if by_name["album2.jpg"]["status"] == "ok":
        assert by_name["album2.jpg"]["low"] <= by_name["album2.jpg"]["suggested_price"] <= by_name["album2.jpg"]["high"]
    # Each photo is filed: the good one to done/, the bad ones to failed/; the inbox is empty.
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["IMG_0001.HEIC", "album2.jpg"]
    assert sorted(p.name for p in (inbox / "failed").iterdir()) == ["empty.png", "notes.jpg"]
    assert not [p for p in inbox.iterdir() if p.is_file()]

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        stored = con.execute("SELECT status, count(*) FROM price_suggestions GROUP BY ALL").fetchall()
        runs = con.execute("SELECT flow, status FROM pipeline_runs WHERE flow = 'price'").fetchall()
    finally:
        con.close()
    assert sum(n for _, n in stored) == 4 and dict(stored)["error"] == 2
    assert runs == [("price", "partial")]

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[result["run_id"]])))
    table = next(a for a in arts if a.key == "price-suggestions")
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    assert {r["photo"] for r in rows} == {"album2.jpg", "notes.jpg", "empty.png", "IMG_0001.HEIC"}

    # A second run finds an empty inbox and prices nothing.
    again = price(home=str(settings.home))
    assert again["results"] == []


def test_price_flow_refuses_bad_parameters_before_it_runs(prefect_harness, tmp_path):
    import pytest
    from prefect.exceptions import ParameterTypeError

    from flows.price import price

    home = tmp_path / "home"
    for bad, said in [(dict(top_k=0), "top_k"), (dict(days=-3), "days"), (dict(currency="dollars"), "currency"),
                      (dict(media="shiny"), "media.*'shiny' is not a grade"), (dict(sleeve="VG+++"), "sleeve")]:
        with pytest.raises(ParameterTypeError, match=said):
            price(home=str(home), photos=[], **bad)
    assert not home.exists()  # refused before any task (or the settings) touched the home
    good = dict(top_k=3, days=30, currency="usd", media="Near Mint (NM or M-)", sleeve="EX")
    assert price(home=str(home), photos=[], move=False, **good)["results"] == []

