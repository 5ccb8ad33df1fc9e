"""The `soldsight price` command end to end on the fitted small world: JSON, folders, a cold process, a pipe."""
from __future__ import annotations

import json

import pytest

from soldsight.price.service import price_photos
from tests.fixtures.price import ANSWER_FIELDS as FIELDS, answers_file, own_home
from warehouse.connection import open_warehouse


def test_cli_help_and_json(price_fitted, price_world, capsys, monkeypatch, lite0_embedder):
    from soldsight import cli

    settings, _ = price_fitted
    with pytest.raises(SystemExit):
        cli.main(["price", "--help"])
    assert "--media" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["backtest", "--help"])
    monkeypatch.setenv("SOLDSIGHT_HOME", str(settings.home))
    # The session's embedder stands in for a fresh load, to keep the suite fast.
    monkeypatch.setattr("soldsight.embed.load_embedder", lambda *a, **k: lite0_embedder)
    photo = price_world / answers_file(price_world)[1]["photo"]
    assert cli.main(["price", str(photo), "--json", "--top", "3"]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert FIELDS <= set(line) and len(line["comparables"]) <= 3
    assert cli.main(["backtest"]) == 0
    assert "same_query_median" in capsys.readouterr().out


def test_cli_prices_the_photos_in_a_folder_and_says_what_it_left_out(price_fitted, price_world, capsys, monkeypatch,
                                                                     lite0_embedder, tmp_path):
    import shutil

    from soldsight import cli

    settings, _ = price_fitted
    monkeypatch.setenv("SOLDSIGHT_HOME", str(settings.home))
    monkeypatch.setattr("soldsight.embed.load_embedder", lambda *a, **k: lite0_embedder)
    shoot, empty = tmp_path / "shoot", tmp_path / "empty"
    shoot.mkdir()
    empty.mkdir()
    for i, answer in enumerate(answers_file(price_world)[:2]):
        shutil.copy(price_world / answer["photo"], shoot / f"p{i}{(price_world / answer['photo']).suffix}")
    (shoot / "notes.txt").write_text("taken at the fair")

    assert cli.main(["price", str(shoot), "--json"]) == 0
    out, err = capsys.readouterr()
    answers = [json.loads(line) for line in out.splitlines()]
    assert [a["photo"] for a in answers] == [str(p) for p in sorted(shoot.glob("p*"))]
    assert all(a["status"] != "error" for a in answers)
    assert "not priced: 1 other file (notes.txt)" in err

    # A folder with no photos is an error the user sees; the photos beside it are still priced.
    first = sorted(shoot.glob("p*"))[0]
    assert cli.main(["price", str(empty), str(first), "--json"]) == 1
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1 and f"{empty}: no photos in this folder" in err
    assert cli.main(["price", str(empty)]) == 1 and capsys.readouterr().out == ""

    # -r: a subfolder's photos follow the folder's own.
    (shoot / "day2").mkdir()
    shutil.move(str(first), shoot / "day2" / first.name)
    assert cli.main(["price", "-r", str(shoot), "--json"]) == 0
    out, err = capsys.readouterr()
    got = [json.loads(line)["photo"] for line in out.splitlines()]
    assert got == [str(p) for p in sorted(shoot.glob("p*"))] + [str(shoot / "day2" / first.name)]
    assert "2 photos in 2 folders" in err


@pytest.mark.parametrize("litert", ["1", "0"])  # LiteRT from the fit's export; without it, the numpy engine
def test_cold_price_command_answers_without_tensorflow(price_fitted, price_world, lite0_embedder, litert):
    """A new process pricing one photo skips TensorFlow's start-up and agrees with TensorFlow."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    settings, _ = price_fitted
    photo = price_world / answers_file(price_world)[3]["photo"]
    script = ("import json, sys\nfrom soldsight import cli\nrc = cli.main(['price', sys.argv[1], '--json'])\n"
              "print(json.dumps({'rc': rc, 'tensorflow': 'tensorflow' in sys.modules, 'litert': 'ai_edge_litert' in sys.modules}))")
    env = {**os.environ, "SOLDSIGHT_HOME": str(settings.home), "SOLDSIGHT_LITERT": litert}
    run = subprocess.run([sys.executable, "-c", script, str(photo)], env=env, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], timeout=300, check=False)
    lines = run.stdout.strip().splitlines()
    assert json.loads(lines[-1]) == {"rc": 0, "tensorflow": False, "litert": litert == "1"}, run.stderr[-2000:]
    cold = json.loads(lines[-2])
    [warm] = price_photos(settings, [photo], embedder=lite0_embedder, store=False)
    assert cold["status"] == warm["status"] and cold["match"] == warm["match"]
    assert cold["suggested_price"] == pytest.approx(warm["suggested_price"], rel=1e-3)
    assert [c["listing_id"] for c in cold["comparables"][:5]] == [c["listing_id"] for c in warm["comparables"][:5]]


def test_a_reader_that_stops_early_ends_the_command_quietly(price_fitted, price_world, tmp_path):
    """`soldsight price *.jpg --json | head -1`: no traceback, the pipe's exit status, the printed batch stored."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    own = own_home(price_fitted[0], tmp_path)
    photo = price_world / answers_file(price_world)[0]["photo"]
    env = {**os.environ, "SOLDSIGHT_HOME": str(own.home), "SOLDSIGHT_PRICE_BATCH": "8"}
    # 40 answers of ~5 KB each: more than a pipe holds, so the command is still writing when the reader goes.
    proc = subprocess.Popen([sys.executable, "-m", "soldsight", "price", *[str(photo)] * 40, "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=Path(__file__).resolve().parents[1])
    first = json.loads(proc.stdout.readline())
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141, err[-2000:]
    assert "Traceback" not in err and "BrokenPipe" not in err, err[-2000:]
    assert first["status"] != "error"
    with open_warehouse(own) as con:
        assert con.execute("SELECT count(*) FROM price_suggestions WHERE photo = ?", [str(photo)]).fetchall()[0][0] == 1
