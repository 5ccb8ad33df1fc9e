"""`soldsight price PHOTO...`: identify each photo and suggest a price from sold comparables."""
from __future__ import annotations

import json
import sys

from soldsight.commands.arguments import at_least

NAME = "price"
HELP = ("Identify the item in each photo and suggest a price (with a low-high range) from the most similar "
        "sold listings; --fit first builds the search index and fits the price model from the warehouse.")
GRADE_HELP = "Goldmine grade: M NM VG+ VG G+ G F P; the UK EX, EX+, EX- and words such as 'Near Mint' too"


def add_arguments(parser) -> None:
    parser.add_argument("photos", nargs="*", metavar="PHOTO",
                        help="photo files to price (JPEG, PNG, WEBP, HEIC...); a folder stands for the photos "
                             "directly in it (with -r, in its subfolders too)")
    parser.add_argument("-r", "--recursive", action="store_true",
                        help="a folder also stands for the photos in its subfolders, each in name order")
    parser.add_argument("--json", action="store_true", help="print one JSON object per photo, one per line")
    parser.add_argument("--media", metavar="G", help=f"the record's condition, to adjust the price ({GRADE_HELP})")
    parser.add_argument("--sleeve", metavar="G", help=f"the sleeve's condition ({GRADE_HELP})")
    parser.add_argument("--top", type=at_least(1), metavar="K", help="comparables to consider and show (default SOLDSIGHT_TOP_K)")
    parser.add_argument("--currency", metavar="ISO", help="only comparables sold in this currency, e.g. USD")
    parser.add_argument("--days", type=at_least(1), metavar="N", help="only comparables sold in the last N days")
    parser.add_argument("--rerank", type=at_least(0), metavar="N",
                        help="re-check the N best listings by geometric verification (default SOLDSIGHT_RERANK_TOP, "
                             "else 20); 0 is off: faster, less accurate")
    parser.add_argument("--fit", action="store_true",
                        help="(re)build the price index from downloaded listing photos, fit grade effects and "
                             "calibrate the range and match threshold; run after new listings are embedded")


def run(args, settings) -> int:
    from soldsight.price.photo_paths import photo_paths
    from soldsight.price.service import NothingToFit, fit_price_model, iter_prices

    if not args.fit and not args.photos:
        print("soldsight price: give PHOTO paths, or --fit", file=sys.stderr)
        return 2
    if args.fit:
        try:
            summary = fit_price_model(settings)
        except NothingToFit as exc:
            print(f"soldsight price --fit: {exc}", file=sys.stderr)
            return 1
        print(json.dumps(summary) if args.json else _fit_text(summary), flush=True)
    if not args.photos:
        return 0
    named = photo_paths(args.photos, recursive=args.recursive)
    for note in named.notes:
        print(f"soldsight price: {note}", file=sys.stderr, flush=True)
    failed = bool(named.empty_folders)
    if not named.photos:
        return 1
    try:
        answers = iter_prices(settings, named.photos, media=args.media, sleeve=args.sleeve, top=args.top,
                              currency=args.currency, days=args.days, rerank=args.rerank)
    except ValueError as exc:
        print(f"soldsight price: {exc}", file=sys.stderr)
        return 2
    for a in answers:  # printed batch by batch (SOLDSIGHT_PRICE_BATCH), so many photos show progress early
        print(json.dumps(a, ensure_ascii=False) if args.json else _text(a, args.top), flush=True)
        failed |= a["status"] == "error"
    return 1 if failed else 0


def _fit_text(s: dict) -> str:
    idx = s["index"]
    read = f"; printed words read on {idx['photos_read']} new photos" if "photos_read" in idx else ""
    return (f"index {idx['index_id']}: {idx['rows']} rows, {idx['photos']} photos of {idx['listings']} listings "
            f"({idx['unreadable']} unreadable){read}; grades {s['grades']}; calibration {s['calibration']} "
            f"(threshold {s['threshold']:.3f}, tau {s['price_params']['tau']}, range x{s['price_params']['range_scale']})")


def _text(a: dict, top: int | None) -> str:
    lines = [f"{a['photo']}: {a['status']}" + (f" - {a['reason']}" if a["reason"] else "")]
    if a["match"]:
        from soldsight.price.search import item_name, what_to_check

        m = a["match"]
        item = item_name(m)
        lines.append(f"  match: {item + ': ' if item else ''}{m['title']} (listing {m['listing_id']}, "
                     f"similarity {m['similarity']:.3f})")
        if a.get("second_look"):
            lines.append("  second look: the first match was weakly supported, so the photo was searched again "
                         "through 5 windows off its centre")
        text = a.get("sleeve_text") or {}
        if text.get("lines"):
            lines.append(f"  read on the sleeve: {' / '.join(text['lines'])}"
                         + ("  (the match was chosen by it)" if text["chose_match"] else ""))
            if text.get("print"):
                lines.append(f"  pressing chosen by print: {text['print']}")
        elif text.get("error"):
            lines.append(f"  {text['error']}")
        points = (a["comparables"] or [{}])[0].get("inliers")
        for alt in a.get("alternatives") or []:
            other = item_name(alt)
            lines.append(f"  close second: {other + ': ' if other else ''}{alt['title']} (listing {alt['listing_id']}, "
                         f"similarity {alt['similarity']:.3f}, {alt['inliers']} points against {points})")
            hint = what_to_check(m, alt)
            if alt.get("suggested_price") is not None:
                hint = (f"were it that one: {alt['suggested_price']:.2f} {alt['currency']} (range {alt['low']:.2f} - "
                        f"{alt['high']:.2f}, {alt['n_comparables']} of its sales); {hint}")
            lines.append(f"    {hint}")
    if a["status"] == "ok":
        lines.append(f"  suggested {a['suggested_price']:.2f} {a['currency']}  (range {a['low']:.2f} - {a['high']:.2f}, "
                     f"{a['n_comparables']} comparables)")
    shown = a["comparables"][: top or 5]
    if shown:
        # Re-ranked listings come first by matched points, so a lower similarity can precede a higher one.
        lines.append(f"    {'similarity':>10}  {'points':>6}  {'price':>8}  listing")
    for c in shown:
        points = "-" if c.get("inliers") is None else c["inliers"]
        lines.append(f"    {c['similarity']:>10.3f}  {points:>6}  {c['total_price']:>8.2f}  {c['listing_id']}  {c['title']}")
    return "\n".join(lines)
