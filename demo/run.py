"""`make demo`: the whole product on a generated local world, in Prefect's local mode.

1. generate a small world (60 albums, 400 listing photos, held-out query photos) and start its
   image host, proxies, gateway and marketplace on 127.0.0.1;
2. run the refresh flow end to end through the proxies (ingest, scrape, download, embed, load,
   refit, backtest, report), with no Prefect server: Prefect's state lives in $SOLDSIGHT_HOME/prefect;
3. price the held-out photos with the price flow, and print them against the truth;
4. print the backtest figures, the embedding map and how to query the warehouse; stop the servers.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from soldsight.settings import Settings

DEMO_PORT = 18400   # image host; marketplace +1, gateway +2, proxies +3..: stable URLs, so a rerun is quiet
STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"\n[{time.monotonic() - STARTED:6.1f}s] == {message}", flush=True)


@contextmanager
def heartbeat(label: str, every: float = 30.0):
    """A line every `every` seconds while a long step is silent (the refit takes minutes here)."""
    stop = threading.Event()

    def beat():
        while not stop.wait(every):
            print(f"[{time.monotonic() - STARTED:6.1f}s] .. {label} still running", flush=True)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()


def local_prefect(home: Path) -> None:
    """Local (ephemeral) mode, state inside SOLDSIGHT_HOME, nothing sent anywhere. Before importing prefect."""
    from soldsight.commands.refresh import prefect_environment

    os.environ.pop("PREFECT_API_URL", None)
    (home / "prefect").mkdir(parents=True, exist_ok=True)
    os.environ["PREFECT_HOME"] = str((home / "prefect").resolve())
    prefect_environment(home)


def start_world(home: Path):
    from world.up import demo

    try:
        return demo(home / "world", port=DEMO_PORT)
    except OSError:  # a fixed port is taken: any free ports will do (a rerun then re-fetches photos)
        return demo(home / "world")


def stage_table(result: dict) -> str:
    from soldsight.commands.refresh import format_report

    return format_report(result)


def priced_vs_truth(world, results: list[dict]) -> list[dict]:
    """One row per held-out photo: the truth from answers.json beside what the price flow said."""
    answers = {Path(a["photo"]).name: a for a in json.loads(world.answers_path.read_text())["queries"]}
    albums_of = {x["listing_id"]: set(x["album_ids"]) for x in json.loads(world.catalogue_path.read_text())["listings"]}
    rows = []
    for r in results:
        truth = answers.get(Path(r["photo"]).name)
        if truth is None:
            continue
        match = r["match"] or {}
        right = truth["album_id"] in albums_of.get(match.get("listing_id"), set())
        true_price = truth["true_total_price"]
        suggested = r["suggested_price"]
        rows.append({
            "photo": Path(r["photo"]).name, "truth": f"{truth['artist']} - {truth['title']}"[:34],
            "status": r["status"], "identified": "yes" if right else ("-" if not match else "NO"),
            "close_second": bool(r.get("alternatives")),
            "suggested": suggested, "low": r["low"], "high": r["high"], "true": true_price,
            "error": None if suggested is None else abs(suggested - true_price) / true_price,
            "in_range": None if suggested is None else r["low"] <= true_price <= r["high"],
        })
    return rows


def print_pricing(rows: list[dict]) -> None:
    money = lambda x: "-" if x is None else f"{x:7.2f}"  # noqa: E731
    print(f"{'photo':<14} {'true album':<35} {'status':<12} {'id ok':<5} {'2nd':<3} {'suggested':>9} {'range':>17} "
          f"{'true':>7} {'error':>6}")
    for r in rows:
        rng = "-" if r["low"] is None else f"{r['low']:.2f}-{r['high']:.2f}"
        err = "-" if r["error"] is None else f"{100 * r['error']:.0f}%"
        second = "yes" if r["close_second"] else "-"
        print(f"{r['photo']:<14} {r['truth']:<35} {r['status']:<12} {r['identified']:<5} {second:<3} "
              f"{money(r['suggested']):>9} {rng:>17} {money(r['true']):>7} {err:>6}")
    priced = [r for r in rows if r["suggested"] is not None]
    n = len(rows) or 1
    print(f"\n{len(rows)} held-out photos: identified correctly {sum(r['identified'] == 'yes' for r in rows)}/{len(rows)} "
          f"({100 * sum(r['identified'] == 'yes' for r in rows) / n:.0f}%), priced {len(priced)}, "
          f"abstained {len(rows) - len(priced)} ({100 * (len(rows) - len(priced)) / n:.0f}%)")
    flagged = [r for r in rows if r["close_second"]]
    wrong = [r for r in rows if r["identified"] == "NO"]
    print(f"a close second named for {len(flagged)} (column 2nd), {sum(r['close_second'] for r in wrong)} of them "
          f"misidentified; misidentified without one: {sum(not r['close_second'] for r in wrong)}")
    if priced:
        print(f"median absolute % error {100 * statistics.median(r['error'] for r in priced):.1f}%, "
              f"true price inside the low-high range for {100 * sum(r['in_range'] for r in priced) / len(priced):.0f}%")


def print_queries(home: Path) -> None:
    db = home / "soldsight.duckdb"
    sql = ("SELECT query, count(*) AS sold, round(median(total_price), 2) AS median_total "
           "FROM sold_prices GROUP BY query ORDER BY sold DESC LIMIT 5")
    print(f"warehouse: {db}")
    print("  Python:  .venv/bin/python -c \"import duckdb; "
          f"print(duckdb.connect('{db}', read_only=True).sql('{sql}'))\"")
    cli = shutil.which("duckdb")
    print(f"  duckdb CLI{'' if cli else ' (if installed)'}:  duckdb -readonly {db} \"{sql}\"")
    print("  tables: listings, scrape_errors, images, embeddings, price_suggestions, backtest_results, "
          "pipeline_runs; view sold_prices; UDF cosine_similarity(a, b)")
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        print(con.sql(sql))
    finally:
        con.close()


def main() -> int:
    settings = Settings.from_env()
    home = settings.home
    home.mkdir(parents=True, exist_ok=True)
    local_prefect(home)
    say(f"SOLDSIGHT_HOME={home.resolve()}  PREFECT_HOME={os.environ['PREFECT_HOME']}")

    say("generating the local world (60 albums, 400 photos) and starting its servers")
    world = start_world(home)
    try:
        d = world.describe()
        print(f"image host {d['image_host']}, marketplace {d['marketplace']}, proxies {', '.join(d['proxies'])}")
        os.environ.update(world.env())  # proxies, gateway, marketplace: what the flows read
        keyword = json.loads(world.answers_path.read_text())["queries"][0]["keyword"]
        os.environ.setdefault("SOLDSIGHT_SEARCHES", keyword)
        os.environ.setdefault("SOLDSIGHT_SCRAPE_PAGES", "1")
        inbox = Settings.from_env().inbox_exports
        inbox.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(world.export_path, inbox / "world-export.json")

        say("refresh flow: ingest -> scrape -> download (through the proxies) -> embed -> load -> refit -> backtest")
        from flows.price import price
        from flows.refresh import refresh

        with heartbeat("refresh (the refit fits the price model on every listing photo)"):
            refreshed = refresh(home=str(home))
        say("refresh summary")
        print(stage_table(refreshed))

        say("price flow: the held-out photos, copied into the photo inbox")
        photos = Settings.from_env().inbox_photos
        photos.mkdir(parents=True, exist_ok=True)
        for q in sorted(world.queries_dir.iterdir()):
            shutil.copyfile(q, photos / q.name)
        with heartbeat("price"):
            priced = price(home=str(home))
        say("suggested prices against the truth")
        print_pricing(priced_vs_truth(world, priced["results"]))

        say("backtest (leave-one-out over the warehouse)")
        from soldsight.steps import backtest_markdown

        bt = next((r for r in refreshed["stages"] if r["stage"] == "backtest"), None)
        print(backtest_markdown(bt["detail"]["figures"]) if bt and "figures" in bt["detail"] else "no backtest figures")

        say("embedding map")
        from soldsight.cli import main as cli

        out = home / "embedding-map.png"
        cli(["map", "--out", str(out)])
        print(f"embedding map: {out.resolve()}")

        say("query the warehouse yourself")
        print_queries(home)
    finally:
        say("stopping the world's servers")
        world.stop()
    say("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
