"""The synthetic world generator: determinism, shape of its outputs, prices, hard cases, the export."""
from __future__ import annotations

import hashlib
import io
import json
import math
import re
import statistics
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from world.generate import generate, load_answers, load_catalogue, marketplace_listings, plan, write_export
from world.generate.catalogue import condition_factor
from world.generate.export import export_records
from world.generate.sleeves import render_sleeve

TINY = {"albums": 4, "photos": 8, "queries": 2, "workers": 1}


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_world_byte_for_byte(tmp_path):
    generate(tmp_path / "a", seed=5, **TINY)
    generate(tmp_path / "b", seed=5, **TINY)
    generate(tmp_path / "c", seed=6, **TINY)
    a, b, c = (tree_digest(tmp_path / x) for x in "abc")
    assert a == b
    assert a != c


def test_regenerating_into_the_same_folder_leaves_no_stale_files(tmp_path):
    generate(tmp_path, seed=1, **TINY)
    first = set(tree_digest(tmp_path))
    generate(tmp_path, seed=2, **TINY)
    files = set(tree_digest(tmp_path))
    cat = load_catalogue(tmp_path)
    served = {p.lstrip("/") for x in cat["listings"] for p in x["image_paths"]}
    assert served <= files
    assert not any(f.startswith("images/") and f not in served and "s-l1600" not in f for f in files)
    assert first != files


def test_counts_files_and_formats(small_world):
    cat = load_catalogue(small_world)
    assert cat["format"] == "soldsight-world-catalogue" and cat["version"] == 1
    photos = [p for x in cat["listings"] for p in x["photos"]]
    assert len(cat["albums"]) == 12 and len(photos) == 60 == cat["counts"]["photos"]
    assert len({p["image_id"] for p in photos}) == 60
    for p in photos:
        data = (small_world / p["path"].lstrip("/")).read_bytes()
        img = Image.open(io.BytesIO(data))
        assert img.format.lower() == p["format"] and max(img.size) == 500 and len(data) == p["bytes"]
        if p["large_path"]:
            big = Image.open(small_world / p["large_path"].lstrip("/"))
            assert max(big.size) > 500
        else:
            assert not list((small_world / p["path"].lstrip("/")).parent.glob("s-l1600.*"))
    for album in cat["albums"]:
        assert Image.open(small_world / album["sleeve"]).size == (512, 512)
        assert sum(album["album_id"] in x["album_ids"] for x in cat["listings"]) >= 3


def test_listing_fields_and_photo_kinds(small_world):
    cat = load_catalogue(small_world)
    kinds = {p["kind"] for x in cat["listings"] for p in x["photos"]}
    assert "front" in kinds and kinds & {"back", "label", "vinyl"}
    for x in cat["listings"]:
        assert re.fullmatch(r"\d{12}", x["listing_id"])
        assert 0 < len(x["title"]) <= 80
        assert x["price"] > 0 and x["currency"] in ("USD", "GBP") and x["shipping_cost"] >= 0
        assert x["sold"] is True and x["sold_at"].endswith("+00:00")
        assert x["true_media_grade"] in ("M", "NM", "VG+", "VG", "G+", "G", "F", "P")


def test_prices_follow_base_times_condition_times_noise(tmp_path):
    album_list, listings, *_ = plan(tmp_path, seed=3, albums=40, photos=400, queries=0)
    albums = {a["album_id"]: a for a in album_list}
    logs = []
    for x in listings:
        if x["is_lot"] or x["currency"] != "USD":
            continue
        album = albums[x["album_ids"][0]]
        expected = album["base_price"] * condition_factor(x["true_media_grade"], x["true_sleeve_grade"])
        logs.append(math.log(x["price"] / expected))
    assert abs(statistics.median(logs)) < 0.1  # unbiased around base x condition
    assert 0.05 < statistics.pstdev(logs) < 0.3  # but noisy
    assert condition_factor("NM", "NM") > condition_factor("VG+", "VG+") > condition_factor("G", "VG")


def test_hard_cases_are_close_but_not_identical(tmp_path):
    album_list, *_ = plan(tmp_path, seed=4, albums=40, photos=120, queries=0)
    variants = [a for a in album_list if a["family_id"] != a["album_id"]]
    assert variants and all(a["hard_case"].startswith("pressing_") for a in variants)
    pixels = {a["album_id"]: np.asarray(render_sleeve(a, side=128), np.float32) for a in album_list}
    for v in variants:
        d_pressing = np.abs(pixels[v["album_id"]] - pixels[v["family_id"]]).mean()
        d_other = min(np.abs(pixels[v["album_id"]] - pixels[a["album_id"]]).mean()
                      for a in album_list if a["family_id"] != v["family_id"])
        assert 0 < d_pressing < d_other
    assert any(a["hard_case"] == "same_artist_style" for a in album_list)


def test_held_out_queries_are_fresh_photos_with_answers(small_world):
    cat = load_catalogue(small_world)
    answers = load_answers(small_world)
    listed = {hashlib.sha256((small_world / p.lstrip("/")).read_bytes()).hexdigest()
              for x in cat["listings"] for p in x["image_paths"]}
    albums = {a["album_id"]: a for a in cat["albums"]}
    assert len(answers) == 12
    for q in answers:
        data = (small_world / q["photo"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() not in listed
        Image.open(io.BytesIO(data)).load()
        album = albums[q["album_id"]]
        assert (q["artist"], q["title"], q["family_id"]) == (album["artist"], album["title"], album["family_id"])
        assert q["true_price"] == pytest.approx(album["base_price"] * condition_factor(q["media_grade"], q["sleeve_grade"]), abs=0.01)
        assert q["true_total_price"] > q["true_price"]


def test_export_has_the_scraper_shape(small_world):
    records = export_records(small_world, "http://127.0.0.1:1234")
    failed = [r for r in records if "error" in r]
    ok = [r for r in records if "error" not in r]
    assert failed and all(set(r) == {"input", "error"} for r in failed)
    for r in ok:
        assert re.fullmatch(r"\d{12}", r["ebay_id"])
        assert set(r["price"]) == {"value", "currency", "symbol"}
        assert r["image_url"].startswith("http://127.0.0.1:1234/images/g/")
        assert re.fullmatch(r"http://127\.0\.0\.1:1234/images/g/\w{16}/s-l500\.(jpg|webp)", r["image_url"])
        assert set(r["input"]) == {"keyword", "count", "condition"}
        if "sold_date" in r:
            assert re.fullmatch(r"[A-Z][a-z]{2} \d\d, \d{4} \d\d:\d\d:\d\d P[DS]T", r["sold_date"])
        if "shipping_price" in r and not r["shipping_price"].startswith("Free"):
            assert "\u00a0" in r["shipping_price"]
    assert {r["ebay_id"] for r in ok} == {x["listing_id"] for x in load_catalogue(small_world)["listings"]}


def test_export_ingests_cleanly(small_world, settings, tmp_path):
    import duckdb

    from soldsight.cli import main

    path = write_export(small_world, "http://127.0.0.1:1234", out=tmp_path / "export.ndjson", ndjson=True)
    assert main(["ingest", str(path)]) == 0
    cat = load_catalogue(small_world)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        rows = con.execute("select listing_id, price, currency from listings").fetchall()
    finally:
        con.close()
    assert {r[0]: (r[1], r[2]) for r in rows} == {x["listing_id"]: (pytest.approx(x["price"]), x["currency"])
                                                   for x in cat["listings"]}


def test_image_host_serves_the_world_and_the_export_urls(world_export, world):
    records = [r for r in json.loads(world_export.read_text()) if "image_url" in r]
    for r in records[:10]:
        resp = requests.get(r["image_url"], timeout=5)
        assert resp.status_code == 200
        assert resp.headers["Content-Type"] == ("image/webp" if r["image_url"].endswith("webp") else "image/jpeg")
    cat = load_catalogue(world_export.parent)
    big = next(p for x in cat["listings"] for p in x["photos"] if p["large_path"])
    small = next(p for x in cat["listings"] for p in x["photos"] if not p["large_path"])
    assert requests.get(world.image_host.url + big["large_path"], timeout=5).status_code == 200
    assert requests.get(world.image_host.url + small["path"].replace("s-l500", "s-l1600"), timeout=5).status_code == 404


def test_marketplace_listings_have_absolute_image_urls(small_world):
    listings = marketplace_listings(small_world, "http://127.0.0.1:9/")
    assert all(u.startswith("http://127.0.0.1:9/images/g/") for x in listings for u in x["image_urls"])
    assert all(len(x["image_urls"]) == len(x["photos"]) for x in listings)


def test_cli_writes_a_world_and_an_export(tmp_path, capsys):
    from world.generate.__main__ import main

    assert main(["--seed", "2", "--albums", "4", "--photos", "8", "--queries", "2", "--workers", "1",
                 "--out", str(tmp_path), "--export-base", "http://127.0.0.1:5"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["albums"], summary["photos"], summary["queries"]) == (4, 8, 2)
    assert (tmp_path / "export.json").exists() and (tmp_path / "answers.json").exists()


@pytest.mark.parametrize("flags, said", [
    (["--albums", "0"], "need at least one album and at least one photo per album, not 0 albums and 8 photos"),
    (["--albums", "4", "--photos", "3"], "not 4 albums and 3 photos"),
    (["--queries", "-2"], "queries must be at least 0, not -2"),
    (["--workers", "0"], "--workers must be at least 1, not 0"),
])
def test_cli_refuses_sizes_no_world_can_have(flags, said, tmp_path, capsys):
    # These used to end in a traceback (or, for --queries -2, a world with no queries).
    from world.generate.__main__ import main

    args = {"--albums": "4", "--photos": "8", "--out": str(tmp_path / "w")}
    args.update(zip(flags[::2], flags[1::2]))
    with pytest.raises(SystemExit) as stop:
        main([x for kv in args.items() for x in kv])
    assert stop.value.code == 2
    assert said in capsys.readouterr().err
    assert not (tmp_path / "w").exists()
