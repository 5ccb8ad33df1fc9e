"""`make demo`: ingest the bundled sample export and show what landed (grows with the pipeline)."""
from __future__ import annotations

from pathlib import Path

from soldsight.cli import main

if __name__ == "__main__":
    main(["ingest", str(Path(__file__).parent / "sample_export.json")])
