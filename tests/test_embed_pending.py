"""The embed step on a real warehouse: what gets embedded, failures as rows, idempotence, resuming, the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from soldsight.embed.pending import embed_pending
from tests.fixtures.embedding import add_downloaded, add_failed_download, image_bytes, noise_photo
from warehouse.connection import connect, open_warehouse
from warehouse.lake import load_pending


def _rows(settings):
    with open_warehouse(settings) as con:
        return con.execute(
            "SELECT sha256, model_id, status, error, vector, embedded_at FROM embeddings ORDER BY sha256").fetchall()


def _corrupt_between(shas: list[str]) -> bytes:
    """Undecodable bytes whose sha256 sorts strictly inside the good ones, so the failure is mid-batch."""
    import hashlib

    low, high = min(shas), max(shas)
    for i in range(10_000):
        data = b"\xff\xd8\xff\xe0 not really a jpeg %d" % i
        if low < hashlib.sha256(data).hexdigest() < high:
            return data
    raise AssertionError("no corrupt payload sorts in the middle")


@pytest.fixture
def downloaded(settings):
    """Six good photos in four formats and modes, a duplicate, a corrupt file mid-batch, a missing file, a 404."""
    rgba = noise_photo(4, (320, 320)).convert("RGBA")
    photos = [
        ("101", image_bytes(noise_photo(1, (500, 500)), "JPEG"), "jpg"),
        ("102", image_bytes(noise_photo(2, (640, 400)), "PNG"), "png"),
        ("103", image_bytes(noise_photo(3, (224, 224)), "PNG"), "png"),
        ("104", image_bytes(rgba, "PNG"), "png"),
        ("105", image_bytes(noise_photo(5, (300, 450)), "WEBP"), "webp"),
        ("106", image_bytes(noise_photo(6, (1200, 900)).convert("L"), "JPEG"), "jpg"),
    ]
    good = add_downloaded(settings, photos)
    add_downloaded(settings, [("107", photos[0][1], "jpg")])  # the same photo in another listing
    corrupt = add_downloaded(settings, [("108", _corrupt_between(good), "jpg")])[0]
    missing = add_downloaded(settings, [("109", image_bytes(noise_photo(9), "JPEG"), "jpg")])[0]
    (settings.home / f"images/{missing[:2]}/{missing}.jpg").unlink()
    add_failed_download(settings, "110")
    return {"good": good, "corrupt": corrupt, "missing": missing}


def test_every_downloaded_photo_is_embedded_once_and_bad_ones_become_failed_rows(settings, lite0_embedder, downloaded):
    logged, progressed = [], []
    report = embed_pending(settings, lite0_embedder, chunk_size=3, log=logged.append,
                           progress=lambda done, total: progressed.append((done, total)))
    assert (report.pending, report.embedded, report.failed) == (8, 6, 2)
    # Progress as lines for people, and as numbers for the flow's progress artifact.
    assert [line.split(" photos")[0] for line in logged[1:]] == ["3/8", "6/8", "8/8"]
    assert progressed == [(0, 8), (3, 8), (6, 8), (8, 8)]
    assert len(report.lake_files) == 3  # chunks of 3 rows: a killed run keeps the finished ones

    rows = {r[0]: r for r in _rows(settings)}
    assert set(rows) == set(downloaded["good"]) | {downloaded["corrupt"], downloaded["missing"]}
    assert {r[1] for r in rows.values()} == {lite0_embedder.model_id}
    for sha in downloaded["good"]:
        _, _, status, error, vector, _ = rows[sha]
        assert status == "ok" and error is None and len(vector) == 1280
        assert abs(np.linalg.norm(np.asarray(vector, np.float64)) - 1.0) < 1e-5
    bad = rows[downloaded["corrupt"]]
    assert bad[2] == "failed" and bad[3].startswith("cannot identify image") and bad[4] is None
    assert rows[downloaded["missing"]][2:5] == ("failed", f"missing file: images/{downloaded['missing'][:2]}/{downloaded['missing']}.jpg", None)

    # What is stored is exactly what the embedder gives the file (the `soldsight vector` contract).
    sha = downloaded["good"][3]  # the RGBA one
    path = next((settings.images_dir / sha[:2]).glob(f"{sha}.*"))
    expected = lite0_embedder.embed_batch(lite0_embedder.preprocess(path)[None])[0]
    np.testing.assert_allclose(np.asarray(rows[sha][4], np.float32), expected, atol=1e-6)


def test_rerunning_embeds_nothing_new(settings, lite0_embedder, downloaded):
    embed_pending(settings, lite0_embedder)
    before = _rows(settings)
    lake_files = sorted((settings.lake_dir / "embeddings").glob("*.parquet"))
    again = embed_pending(settings, lite0_embedder)
    assert (again.pending, again.embedded, again.failed, again.lake_files) == (0, 0, 0, [])
    assert _rows(settings) == before
    assert sorted((settings.lake_dir / "embeddings").glob("*.parquet")) == lake_files

    retried = embed_pending(settings, lite0_embedder, retry_failed=True)
    assert (retried.pending, retried.embedded, retried.failed) == (2, 0, 2)
    assert len(_rows(settings)) == len(before)


def test_a_killed_run_keeps_its_progress_and_the_lake_rebuilds_the_table(settings, lite0_embedder, downloaded, tmp_path):
    first = embed_pending(settings, lite0_embedder, limit=3, chunk_size=2)
    assert first.embedded + first.failed == 3 and len(_rows(settings)) == 3
    rest = embed_pending(settings, lite0_embedder, chunk_size=1)  # the failed rows get chunks of their own
    assert rest.pending == 5 and len(rest.lake_files) == 5 and len(_rows(settings)) == 8
    assert sum(r[2] == "failed" for r in _rows(settings)) == 2

    # The Parquet lake is the record: a new warehouse loaded from it holds the same rows.
    con = connect(tmp_path / "rebuilt.duckdb")
    try:
        load_pending(con, settings.lake_dir, ["embeddings"])
        rebuilt = con.execute(
            "SELECT sha256, model_id, status, error, vector, embedded_at FROM embeddings ORDER BY sha256").fetchall()
    finally:
        con.close()
    assert rebuilt == _rows(settings)


def _add_listings(settings, labels: dict[str, str]) -> None:
    with open_warehouse(settings) as con:
        con.executemany(
            "INSERT INTO listings (source, listing_id, title, artist, sold, query, origin, record_hash, ingested_at, raw) "
            "VALUES ('ebay', ?, ?, ?, true, ?, 'test', ?, now(), '{}')",
            [(lid, f"{q} LP", q.split()[0], q, lid) for lid, q in labels.items()])


def test_cli_embed_vector_and_map(settings, lite0_embedder, downloaded, tmp_path, capsys):
    from soldsight.cli import main

    assert main(["embed", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "6 embedded, 2 failed, of 8 pending" in out and "cannot identify image" in out
    from soldsight.embed.litert_engine import HEAD, models_dir

    assert (models_dir(settings.home) / HEAD).is_file()  # converted once, then embedded on LiteRT
    assert main(["embed", "--quiet"]) == 0
    assert "0 embedded, 0 failed, of 0 pending" in capsys.readouterr().out

    sha = downloaded["good"][1]
    photo = next((settings.images_dir / sha[:2]).glob(f"{sha}.*"))
    assert main(["vector", str(photo)]) == 0
    printed = json.loads(capsys.readouterr().out)
    stored = {r[0]: r[4] for r in _rows(settings)}[sha]
    assert len(printed) == 1280
    np.testing.assert_allclose(printed, stored, atol=1e-6)
    with open_warehouse(settings) as con:  # pasted into SQL, it finds its own photo first
        best = con.execute(
            "SELECT sha256 FROM embeddings WHERE status = 'ok' "
            "ORDER BY array_cosine_similarity(vector, ?::FLOAT[1280]) DESC LIMIT 1", [printed]).fetchall()
    assert best[0][0] == sha

    _add_listings(settings, {"101": "mira castell blue", "102": "mira castell blue", "103": "velvet foxes",
                             "104": "velvet foxes", "105": "paper moons", "106": "paper moons"})
    out_png = tmp_path / "map.png"
    assert main(["map", "--out", str(out_png)]) == 0
    assert "6 photos" in capsys.readouterr().out
    with Image.open(out_png) as im:
        assert im.format == "PNG" and im.width > 600 and im.height > 400

    assert main(["vector", str(tmp_path / "nope.jpg")]) == 2
    (tmp_path / "bad.jpg").write_bytes(b"garbage")
    assert main(["vector", str(tmp_path / "bad.jpg")]) == 1
    assert "cannot identify image" in capsys.readouterr().err
