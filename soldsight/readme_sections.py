"""The README's generated sections (settings, warehouse), so the README never drifts from the code.

    python -m soldsight.readme_sections          # rewrite them in README.md
    python -m soldsight.readme_sections --check  # exit 1 if README.md is stale

A section sits between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def settings_table() -> str:
    from soldsight.settings import Settings

    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{name}` | `{default}` | {meaning} |" for name, default, meaning in Settings.describe()]
    return "\n".join(rows) + "\n"


def warehouse_reference() -> str:
    from warehouse.describe import describe_markdown

    return describe_markdown()


SECTIONS = {"settings": settings_table, "warehouse": warehouse_reference}


def _pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- generated:{name} -->\n)(.*?)(<!-- /generated:{name} -->)", re.S)


def render(text: str) -> str:
    """The README text with every generated section replaced by its current content."""
    for name, make in SECTIONS.items():
        pattern = _pattern(name)
        if not pattern.search(text):
            raise ValueError(f"README has no generated section {name!r}")
        body = make()
        text = pattern.sub(lambda m: m.group(1) + body + m.group(3), text)
    return text


def main(argv: list[str]) -> int:
    current = README.read_text(encoding="utf-8")
    fresh = render(current)
    if "--check" in argv:
        if fresh != current:
            print("README.md is stale: run python -m soldsight.readme_sections", file=sys.stderr)
            return 1
        return 0
    README.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
