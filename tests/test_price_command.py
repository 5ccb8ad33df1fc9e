"""`soldsight price` without a model: which photos it takes from its arguments, and how it prints an answer."""
from __future__ import annotations

from soldsight.price.photo_paths import photo_paths


def test_a_folder_stands_for_its_photos_and_names_what_else_it_holds(tmp_path):
    folder = tmp_path / "shoot"
    (folder / "older").mkdir(parents=True)
    for name in ("b.jpg", "IMG_0001.HEIC", "c.PNG", "notes.txt", ".DS_Store", "older/x.jpg"):
        (folder / name).write_bytes(b"x")
    got = photo_paths([folder])
    assert [p.name for p in got.photos] == ["IMG_0001.HEIC", "b.jpg", "c.PNG"]
    assert got.notes == [f"{folder}: 3 photos; not priced: 1 other file (notes.txt) and 1 subfolder (older)"]
    assert got.empty_folders == []


def test_files_are_kept_as_named_in_order_even_missing_or_odd_ones(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.webp").write_bytes(b"x")
    (tmp_path / "scan.txt").write_bytes(b"x")
    args = [tmp_path / "scan.txt", tmp_path / "a", tmp_path / "gone.jpg", tmp_path / "scan.txt"]
    got = photo_paths([str(a) for a in args])
    # A file named is the user's choice: a bad or missing one becomes an error answer, not a skip.
    assert got.photos == [tmp_path / "scan.txt", tmp_path / "a" / "one.webp", tmp_path / "gone.jpg", tmp_path / "scan.txt"]
    assert got.notes == [] and got.empty_folders == []


def test_a_folder_without_photos_is_said_and_many_others_are_summed_up(tmp_path):
    empty, full = tmp_path / "empty", tmp_path / "papers"
    empty.mkdir()
    full.mkdir()
    for i in range(5):
        (full / f"doc{i}.pdf").write_bytes(b"x")
    got = photo_paths([empty, full])
    assert got.photos == [] and got.empty_folders == [empty, full]
    assert got.notes[0].startswith(f"{empty}: no photos in this folder (looked for .jpg .jpeg .png .webp .heic")
    assert got.notes[1].endswith("not priced: 5 other files (doc0.pdf, doc1.pdf, doc2.pdf, and 2 more)")


def test_recursive_takes_the_photos_of_subfolders_in_name_order(tmp_path):
    folder = tmp_path / "fair"
    for name in ("z.jpg", "b/2.jpg", "b/deeper/1.png", "a/notes.txt", "a/IMG_9.HEIC", ".cache/x.jpg", "empty/",
                 "b/deeper/.hidden.jpg"):
        path = folder / name
        if name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    got = photo_paths([folder], recursive=True)
    assert [str(p.relative_to(folder)) for p in got.photos] == ["z.jpg", "a/IMG_9.HEIC", "b/2.jpg", "b/deeper/1.png"]
    assert got.notes == [f"{folder}: 4 photos in 5 folders; not priced: 1 other file (a/notes.txt)"]
    flat = photo_paths([folder])  # without it, the subfolders are named and left alone
    assert [p.name for p in flat.photos] == ["z.jpg"]
    assert flat.notes == [f"{folder}: 1 photo; not priced: 3 subfolders (a, b, empty)"]
    nothing = tmp_path / "nothing"
    (nothing / "sub").mkdir(parents=True)
    got = photo_paths([nothing], recursive=True)
    assert got.photos == [] and got.empty_folders == [nothing]
    assert got.notes[0].startswith(f"{nothing}: no photos in 2 folders (looked for .jpg")


def test_the_photo_inbox_takes_phone_photos(tmp_path):
    from soldsight.pipeline import PHOTO_SUFFIXES, pending_files

    for name in ("IMG_0002.HEIC", "IMG_0003.heif", "IMG_0004.JPG", "IMG_0005.jpg.part"):
        (tmp_path / name).write_bytes(b"x")
    # A half-copied file keeps its temporary suffix until it is whole, so it waits for the next run.
    assert [p.name for p in pending_files(tmp_path, PHOTO_SUFFIXES)] == ["IMG_0002.HEIC", "IMG_0003.heif", "IMG_0004.JPG"]


def test_the_text_answer_shows_why_a_lower_similarity_can_come_first():
    from soldsight.commands.price import _text

    comps = [{"listing_id": "L1", "title": "Right album", "total_price": 20.0, "similarity": 0.31, "inliers": 48},
             {"listing_id": "L2", "title": "Look-alike", "total_price": 9.5, "similarity": 0.56, "inliers": 12},
             {"listing_id": "L3", "title": "Not re-ranked", "total_price": 7.0, "similarity": 0.20}]
    answer = {"photo": "a.jpg", "status": "ok", "reason": None, "suggested_price": 19.0, "low": 12.0, "high": 25.0,
              "currency": "USD", "n_comparables": 3, "comparables": comps,
              "match": {"listing_id": "L1", "title": "Right album", "similarity": 0.31}}
    assert _text(answer, None).splitlines()[1] == "  match: Right album (listing L1, similarity 0.310)"
    answer["match"].update(artist="Vera Marlowe", release_year=1990)
    lines = _text(answer, None).splitlines()
    assert lines[1] == "  match: Vera Marlowe, 1990: Right album (listing L1, similarity 0.310)"
    assert lines[3].split() == ["similarity", "points", "price", "listing"]
    assert [ln.split()[:4] for ln in lines[4:]] == [["0.310", "48", "20.00", "L1"], ["0.560", "12", "9.50", "L2"],
                                                   ["0.200", "-", "7.00", "L3"]]
    answer["alternatives"] = [{"listing_id": "L7", "title": "Right album (1998 reissue)", "artist": "Vera Marlowe",
                               "release_year": 1998, "similarity": 0.305, "inliers": 45, "suggested_price": 9.0,
                               "low": 6.5, "high": 12.25, "currency": "USD", "n_comparables": 4}]
    lines = _text(answer, None).splitlines()
    assert lines[2] == ("  close second: Vera Marlowe, 1998: Right album (1998 reissue) (listing L7, similarity 0.305, "
                        "45 points against 48)")
    assert lines[3] == ("    were it that one: 9.00 USD (range 6.50 - 12.25, 4 of its sales); "
                        "check the title, label, sticker and year")
    assert lines[5].split() == ["similarity", "points", "price", "listing"]
    answer["alternatives"][0].update(suggested_price=None, low=None, high=None, n_comparables=1)
    assert _text(answer, None).splitlines()[3] == "    check the title, label, sticker and year"
    # Another artist's item: the names on the sleeve decide, or it is an item with no sales here.
    answer["alternatives"][0].update(artist="The Blue Sparrows")
    assert _text(answer, None).splitlines()[3] == ("    check the artist and title; it may also be an item with no "
                                                   "sales here")
    answer["second_look"] = True  # the answer came from a search through more windows: said under the match
    assert _text(answer, None).splitlines()[2] == ("  second look: the first match was weakly supported, so the photo "
                                                   "was searched again through 5 windows off its centre")
    # What was read on the sleeve follows, and whether it chose the match; a reader that failed says why.
    answer["sleeve_text"] = {"lines": ["VERA MARLOWE", "Right album"], "chose_match": True, "error": None}
    assert _text(answer, None).splitlines()[3] == ("  read on the sleeve: VERA MARLOWE / Right album  (the match was "
                                                   "chosen by it)")
    answer["sleeve_text"].update(chose_match=False)
    assert _text(answer, None).splitlines()[3] == "  read on the sleeve: VERA MARLOWE / Right album"
    answer["sleeve_text"] = {"lines": None, "chose_match": False, "error": "the sleeve's text could not be read: X"}
    assert _text(answer, None).splitlines()[3] == "  the sleeve's text could not be read: X"


def test_bad_arguments_are_refused_before_any_photo_is_read(tmp_path):
    import pytest

    from soldsight.price.service import iter_prices
    from soldsight.settings import Settings

    settings = Settings(home=tmp_path / "no-home-yet")
    for bad, said in [(dict(top=0), "--top must be a whole number of at least 1, not 0"),
                      (dict(top=-2), "--top must be"), (dict(top=2.5), "--top must be"),
                      (dict(days=0), "--days must be a whole number of at least 1"),
                      (dict(rerank=-1), "--rerank must be a whole number of at least 0"),
                      (dict(currency="US"), "--currency 'US' is not an ISO 4217 code"),
                      (dict(currency="U$D"), "is not an ISO 4217 code"),
                      (dict(media="XX"), "--media 'XX' is not a Goldmine grade")]:
        with pytest.raises(ValueError, match=said.replace("$", r"\$")):
            iter_prices(settings, [tmp_path / "never-read.jpg"], **bad)
    assert not settings.home.exists()  # refused before the warehouse was opened


def test_a_fit_with_nothing_to_index_records_no_model(tmp_path, monkeypatch, capsys):
    import pytest

    from soldsight import cli
    from soldsight.price.service import NothingToFit, fit_price_model
    from soldsight.settings import Settings
    from warehouse.connection import open_warehouse

    settings = Settings(home=tmp_path / "home")
    with pytest.raises(NothingToFit, match="no downloaded photo of a sold listing"):
        fit_price_model(settings)
    monkeypatch.setenv("SOLDSIGHT_HOME", str(settings.home))
    assert cli.main(["price", "--fit"]) == 1
    assert "soldsight price --fit: nothing to fit" in capsys.readouterr().err
    with open_warehouse(settings) as con:
        assert con.execute("SELECT count(*) FROM price_models").fetchall() == [(0,)]


def test_the_refresh_refit_step_reports_nothing_to_fit_instead_of_failing(tmp_path):
    from soldsight import steps
    from soldsight.settings import Settings

    # Vectors exist (say, photos of unsold listings only) but no sold listing has a photo and a price.
    report = steps.refit(Settings(home=tmp_path / "home"), {"vectors": 3, "digest": "d"})
    assert report["stage"] == "refit" and report["failed"] == 0
    assert report["note"].startswith("nothing to fit: the warehouse has no downloaded photo")
