"""Figures for the local world: generation speed, and image-host throughput direct and through 4 proxies."""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from world.generate import generate


def generation(out: Path, albums: int, photos: int) -> None:
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0, p0 = time.perf_counter(), time.process_time()
    summary = generate(out, seed=7, albums=albums, photos=photos, queries=0)
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (time.process_time() - p0) + (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    load = os.getloadavg()[0]
    print(f"generate {albums} albums + {photos} photos: {wall:.1f} s wall ({photos / wall:.1f} photos/s), "
          f"{cpu:.1f} s CPU over {summary['workers']} workers; load average {load:.1f} on {os.cpu_count()} cores")
    print(f"  stages: {summary['seconds']}")


def fetch_all(urls: list[str], proxies: list[str | None], threads: int = 16) -> tuple[float, int]:
    done, lock = [0, 0], threading.Lock()

    def work(k: int) -> None:
        with requests.Session() as s:
            for i in range(k, len(urls), threads):
                proxy = proxies[i % len(proxies)]
                r = s.get(urls[i], proxies={"http": proxy} if proxy else None, timeout=30)
                with lock:
                    done[0] += 1
                    done[1] += len(r.content)

    t0 = time.perf_counter()
    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return done[0] / (time.perf_counter() - t0), done[1] // max(done[0], 1)


def serving(world_dir: Path, albums: int, photos: int, rounds: int) -> None:
    # The servers run in their own process, as in the demo, so the client does not share their GIL.
    proc = subprocess.Popen([sys.executable, "-m", "world", "up", "--dir", str(world_dir), "--seed", "7",
                             "--albums", str(albums), "--photos", str(photos), "--queries", "0",
                             "--no-marketplace", "--json"], stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        urls = [r["image_url"] for r in json.loads(Path(info["export"]).read_text()) if "image_url" in r] * rounds
        proxies = [x for x in Path(info["proxies_file"]).read_text().splitlines() if not x.startswith("#")]
        direct, size = fetch_all(urls, [None])
        proxied, _ = fetch_all(urls, proxies)
        print(f"image host, {len(urls)} GETs of ~{size // 1000} KB, 16 client threads in another process:")
        print(f"  direct {direct:.0f} images/s; through {len(proxies)} proxies {proxied:.0f} images/s "
              f"(ratio {proxied / direct:.2f})")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--albums", type=int, default=200)
    p.add_argument("--photos", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=3, help="times each export URL is fetched in the serving test")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-world-") as tmp:
        world_dir = Path(tmp) / "world"
        generation(world_dir, args.albums, args.photos)
        serving(world_dir, args.albums, args.photos, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
