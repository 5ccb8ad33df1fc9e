"""The plain helpers under the flows: stage reports, inboxes, filing photos, run records, fingerprints."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import duckdb

from soldsight import pipeline, steps
from soldsight.pipeline import stage_report


def test_nothing_new_ignores_derived_stages_but_not_failures():
    quiet = [stage_report("ingest", skipped=2), stage_report("refit", note="cached", derived=True)]
    assert pipeline.nothing_new(quiet)
    assert not pipeline.nothing_new(quiet + [stage_report("download", failed=1, failures={"not_found": 1})])
    assert not pipeline.nothing_new(quiet + [stage_report("embed", done=3)])


def test_summary_and_failure_rows_spell_out_reasons_most_frequent_first():
    reports = [stage_report("download", done=5, failed=3, failures={"timeout": 1, "not_found": 2}),
               stage_report("ingest", failed=1, failures={"scraper error": 1})]
    rows = pipeline.summary_rows(reports)
    assert rows[0]["failures by reason"] == "not_found: 2, timeout: 1"
    assert rows[1]["failures by reason"] == "scraper error: 1"
    assert [(r["stage"], r["reason"], r["count"]) for r in pipeline.failure_rows(reports)] == [
        ("download", "not_found", 2), ("download", "timeout", 1), ("ingest", "scraper error", 1)]


def test_pending_files_skips_subfolders_hidden_files_and_other_suffixes(tmp_path):
    for name in ("b.json", "a.ndjson", "c.txt", ".partial.json"):
        (tmp_path / name).write_text("[]")
    (tmp_path / "done").mkdir()
    (tmp_path / "done" / "old.json").write_text("[]")
    assert [p.name for p in pipeline.pending_files(tmp_path, pipeline.EXPORT_SUFFIXES)] == ["a.ndjson", "b.json"]
    assert pipeline.pending_files(tmp_path / "missing", pipeline.EXPORT_SUFFIXES) == []


def test_file_photo_moves_and_never_overwrites_a_different_photo(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"first")
    first = pipeline.file_photo(tmp_path / "a.jpg", ok=True)
    assert first == tmp_path / "done" / "a.jpg" and first.read_bytes() == b"first"
    (tmp_path / "a.jpg").write_bytes(b"second")  # same name, other content
    second = pipeline.file_photo(tmp_path / "a.jpg", ok=True)
    assert second != first and second.read_bytes() == b"second" and first.read_bytes() == b"first"
    (tmp_path / "a.jpg").write_bytes(b"second")  # the very same photo again: one copy kept
    assert pipeline.file_photo(tmp_path / "a.jpg", ok=True) == second
    assert len(list((tmp_path / "done").iterdir())) == 2 and not (tmp_path / "a.jpg").exists()
    (tmp_path / "bad.jpg").write_bytes(b"x")
    assert pipeline.file_photo(tmp_path / "bad.jpg", ok=False).parent.name == "failed"


def test_file_photos_sorts_answers_by_status(tmp_path):
    for name in ("ok.jpg", "err.jpg", "nomatch.jpg"):
        (tmp_path / name).write_bytes(name.encode())
    results = [{"photo": str(tmp_path / "ok.jpg"), "status": "ok"},
               {"photo": str(tmp_path / "err.jpg"), "status": "error"},
               {"photo": str(tmp_path / "nomatch.jpg"), "status": "no_match"},
               {"photo": str(tmp_path / "gone.jpg"), "status": "error"}]  # already moved: left alone
    report = pipeline.file_photos(results)
    assert report["done"] == 3
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == ["nomatch.jpg", "ok.jpg"]
    assert [p.name for p in (tmp_path / "failed").iterdir()] == ["err.jpg"]


def test_run_records_are_one_row_per_run_and_fingerprint_follows_the_data(settings):
    empty = pipeline.warehouse_fingerprint(settings)
    assert empty["listings"] == 0 and empty["vectors"] == 0
    assert pipeline.warehouse_fingerprint(settings) == empty  # nothing changed, same digest
    started = datetime.now(timezone.utc)
    reports = [stage_report("ingest", done=2)]
    pipeline.record_run(settings, run_id="r1", flow="refresh", started_at=started, status="ok", reports=reports)
    pipeline.record_run(settings, run_id="r1", flow="refresh", started_at=started, status="ok", reports=reports)
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        rows = con.execute("SELECT flow, status, nothing_new, stages FROM pipeline_runs").fetchall()
        con.execute("INSERT INTO listings (source, listing_id, sold, origin, record_hash, ingested_at, raw) "
                    "VALUES ('ebay', '1', true, 't', 'h', now(), '{}')")
    finally:
        con.close()
    assert len(rows) == 1 and rows[0][:3] == ("refresh", "ok", False)
    assert json.loads(rows[0][3])[0]["done"] == 2
    changed = pipeline.warehouse_fingerprint(settings)
    assert changed["listings"] == 1 and changed["digest"] != empty["digest"]


def test_ingest_step_reports_missing_files_as_failures_not_crashes(settings, tmp_path):
    report = steps.ingest(settings, [str(tmp_path / "nope.json")])
    assert report["failed"] == 1 and report["failures"] == {"no such file": 1}
    assert steps.ingest(settings)["note"] == "0 new export files of 0"  # empty inbox


def test_backtest_markdown_has_one_row_per_method():
    text = steps.backtest_markdown({"run_id": "x", "model": {"listings": 10, "priced": 9, "top1": 0.9, "mdape": 0.2},
                                    "global_median": {"listings": 10, "priced": 10, "mdape": 0.5}})
    assert "| model | 10 | 9 | 90.0% |" in text and "| global_median | 10 | 10 | - |" in text


def test_artifact_cells_never_carry_a_password():
    from tasks.artifacts import _table, mask

    assert mask("via http://bob:hunter2@10.0.0.1:8080 failed") == "via http://bob:***@10.0.0.1:8080 failed"
    rows = _table([{"proxy": "http://bob:hunter2@h:1", "ok": 3}])
    assert "hunter2" not in json.dumps(rows) and rows[0]["ok"] == 3
    assert _table([]) == [{"note": "nothing to show"}]


def test_price_rows_name_each_close_second_with_its_own_price():
    from soldsight.steps import price_rows

    match = {"title": "Right album", "artist": "Vera Marlowe", "release_year": 1990, "similarity": 0.5}
    answer = {"photo": "/inbox/a.jpg", "status": "ok", "match": match, "suggested_price": 20.0, "low": 15.0,
              "high": 25.0, "currency": "USD", "n_comparables": 5, "reason": None,
              "alternatives": [{"title": "Reissue", "artist": "Vera Marlowe", "release_year": 1998,
                                "suggested_price": 9.0, "currency": "USD"},
                               {"title": "Odd lot", "artist": None, "release_year": None, "suggested_price": None,
                                "currency": None}]}
    row = price_rows([answer])[0]
    assert row["item"] == "Vera Marlowe, 1990"
    assert row["close second"] == "Vera Marlowe, 1998 (9.00 USD); Odd lot"
    assert price_rows([{**answer, "alternatives": []}])[0]["close second"] == "-"
