"""`soldsight ingest`: load scraper exports (JSON array or NDJSON) into the warehouse."""
from __future__ import annotations

import sys
from collections import Counter

from soldsight.ingest.ingest import FileSummary, export_files, ingest_file
from warehouse.connection import open_warehouse

NAME = "ingest"
HELP = "Ingest scraper exports of sold listings (JSON array or NDJSON files, or folders of them)."


def add_arguments(parser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="export files, or folders holding *.json/*.ndjson")
    parser.add_argument("--force", action="store_true", help="re-read files already ingested (still idempotent)")


def format_summary(summaries: list[FileSummary]) -> str:
    lines = []
    totals = Counter()
    errors = Counter()
    for s in summaries:
        if s.failure:
            lines.append(f"REJECTED {s.failure} (nothing written)")
            continue
        if s.already_ingested:
            lines.append(f"{s.path}: already ingested (sha256 {s.sha256[:12]}), nothing to do")
            continue
        lines.append(
            f"{s.path}: {s.records} records, {s.new} new, {s.updated} updated, "
            f"{s.duplicates} duplicates, {s.error_count} errors"
        )
        totals.update(records=s.records, new=s.new, updated=s.updated, duplicates=s.duplicates)
        errors.update(s.errors)
    lines.append(
        f"total: {totals['records']} records read, {totals['new']} listings new, {totals['updated']} updated, "
        f"{totals['duplicates']} duplicates, {sum(errors.values())} errors"
    )
    for reason, count in errors.most_common():
        lines.append(f"  errors: {count:>6}  {reason}")
    return "\n".join(lines)


def run(args, settings) -> int:
    files = export_files(args.paths)
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        print(f"soldsight ingest: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    with open_warehouse(settings) as con:
        summaries = [ingest_file(con, settings.lake_dir, path, force=args.force) for path in files]
    print(format_summary(summaries))
    return 1 if any(s.failure for s in summaries) else 0
