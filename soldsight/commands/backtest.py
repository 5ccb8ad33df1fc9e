"""`soldsight backtest`: leave-one-out over sold listings; identification and price error against baselines."""
from __future__ import annotations

import json

from soldsight.commands.arguments import at_least

NAME = "backtest"
HELP = ("Hold out each sold listing in turn, identify and price it from the others, and report top-1/top-5, "
        "MdAPE, share within +-25% and range coverage beside the global-median and same-query-median baselines; "
        "results go to the backtest_results table.")


def add_arguments(parser) -> None:
    parser.add_argument("--top", type=at_least(1), metavar="K", help="comparables per listing (default SOLDSIGHT_TOP_K)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")


def _pct(v):
    return "   -  " if v is None else f"{100 * v:5.1f}%"


def run(args, settings) -> int:
    from soldsight.price.backtest import run_backtest

    try:
        result = run_backtest(settings, k=args.top)
    except RuntimeError as exc:
        print(f"soldsight backtest: {exc}")
        return 2
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"backtest {result['run_id']}")
    print(f"{'method':<18} {'listings':>8} {'priced':>7} {'top1':>7} {'top5':>7} {'abstain':>7} {'MdAPE':>7} {'<=25%':>7} {'in range':>8}")
    for method in ("model", "global_median", "same_query_median"):
        m = result[method]
        mdape = _pct(m["mdape"])
        print(f"{method:<18} {m['listings']:>8} {m['priced']:>7} {_pct(m.get('top1')):>7} {_pct(m.get('top5')):>7} "
              f"{_pct(m.get('abstained')):>7} {mdape:>7} {_pct(m['within_25']):>7} {_pct(m.get('coverage')):>8}")
    return 0
