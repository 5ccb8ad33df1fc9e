"""The README stays true: generated sections current, every command and setting documented, every --help works."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from soldsight import readme_sections
from soldsight.cli import COMMAND_MODULES, build_parser, main
from soldsight.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands():
    first_block = README.split("```")[1]
    assert re.findall(r"^make (\w+)", first_block, re.M) == ["demo", "test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_generated_sections_are_current():
    assert readme_sections.render(README) == README, "run: python -m soldsight.readme_sections"


def test_render_replaces_a_stale_section():
    stale = README.replace("#### `listings` (table", "#### `listings_old` (table", 1)
    assert stale != README
    stale = re.sub(r"(<!-- generated:settings -->\n).*?(<!-- /generated:settings -->)", r"\1stale\n\2", stale, flags=re.S)
    assert readme_sections.render(stale) == README


def test_every_table_and_view_is_in_the_readme():
    for obj in __import__("warehouse.describe", fromlist=["documented_objects"]).documented_objects():
        assert f"#### `{obj['name']}`" in README, obj["name"]


def test_every_warehouse_column_has_a_meaning():
    body = README.split("<!-- generated:warehouse -->")[1].split("<!-- /generated:warehouse -->")[0]
    rows = [line for line in body.splitlines() if line.startswith("| `")]
    assert rows
    empty = [line for line in rows if line.rstrip().endswith("|  |")]
    assert not empty, empty


def test_every_setting_is_in_the_readme():
    for variable, _default, _meaning in Settings.describe():
        assert f"`{variable}`" in README, variable


def test_every_command_is_in_the_readme():
    for name in COMMAND_MODULES:
        assert f"`soldsight {name}" in README, name


def test_the_cosine_similarity_udf_is_documented():
    assert "### `cosine_similarity(a, b)`" in README


def test_the_readme_sql_example_runs_on_a_real_warehouse(tmp_path):
    from warehouse.connection import connect

    [example] = re.findall(r"```sql\n(.*?)```", README, re.S)
    con = connect(tmp_path / "w.duckdb")
    try:
        assert con.execute(example, [[0.5] * 1280]).fetchall() == []   # valid SQL over the real schema
    finally:
        con.close()


@pytest.mark.parametrize("command", [[]] + [[name] for name in COMMAND_MODULES])
def test_help_works_for_every_command(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(command + ["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: soldsight")
    # A '%' in a help string once printed argparse's internal dict instead of the text.
    assert "option_strings" not in out


def test_the_installed_command_answers_help():
    exe = Path(sys.executable).with_name("soldsight")
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for name in COMMAND_MODULES:
        assert name in result.stdout


def test_every_registered_command_has_a_parser():
    choices = build_parser()._subparsers._group_actions[0].choices
    assert sorted(choices) == sorted(COMMAND_MODULES)
