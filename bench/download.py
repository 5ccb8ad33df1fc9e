"""Download throughput through local forward proxies vs direct, with and without faults.

The image host and the proxies run in their own processes (as the real ones would), so this
process measures only the downloader: images/s, p50/p95 latency, retries, peak RSS.

    .venv/bin/python bench/download.py [--images 2000] [--concurrency 8] [--kb 50]
"""
from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_photos(n: int, kb: int) -> list[bytes]:
    """n distinct JPEG photos of about kb KB each (smooth colour fields plus grain, like a scan)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    side = int(515 * (kb / 50) ** 0.5)
    bases = []
    for _ in range(min(n, 50)):
        base = (rng.random((side // 16, side // 16, 3)) * 255).astype("uint8")
        im = np.asarray(Image.fromarray(base).resize((side, side), Image.BICUBIC)).astype("int16")
        im = (im + rng.integers(-18, 18, im.shape)).clip(0, 255).astype("uint8")
        buf = io.BytesIO()
        Image.fromarray(im).save(buf, "JPEG", quality=72)
        bases.append(buf.getvalue())
    # Distinct bytes for every photo (so none are deduplicated): a numbered JPEG comment after SOI.
    out = []
    for i in range(n):
        note = f"bench photo {i}".encode()
        data = bases[i % len(bases)]
        out.append(data[:2] + b"\xff\xfe" + (len(note) + 2).to_bytes(2, "big") + note + data[2:])
    return out


# --- server processes --------------------------------------------------------------------------
def serve(kind: str, config: dict) -> None:
    """Run the image host or the proxies in this process; print their URLs; exit on stdin EOF."""
    from world.servers import ForwardProxy, ImageHost

    if kind == "host":
        host = ImageHost(seed=3).start()
        for i, data in enumerate(make_photos(config["images"], config["kb"])):
            host.put(f"/images/g/b{i}/s-l500.jpg", data)
        for fault, rate in config.get("faults", {}).items():
            host.faults.set_rate(fault, rate, **({"retry_after": 0} if fault == "rate_limit" else {}))
        print(json.dumps({"url": host.url}), flush=True)
        sys.stdin.read()
        print(json.dumps({"requests": host.counters.get("requests"), "faults": host.counters.by_key("faults")}),
              flush=True)
        host.stop()
    else:
        proxies = [ForwardProxy(username=f"bench{i}", password=f"benchpw{i}", seed=i).start()
                   for i in range(config["proxies"])]
        for i in range(config.get("dead", 0)):
            proxies[i].set_mode("dead")
        print(json.dumps({"urls": [p.proxy_url for p in proxies]}), flush=True)
        sys.stdin.read()
        for p in proxies:
            p.stop()


def start(kind: str, config: dict) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, json.dumps(config)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    return proc, json.loads(proc.stdout.readline())


def stop(proc: subprocess.Popen) -> dict:
    out, _ = proc.communicate(timeout=60)
    return json.loads(out) if out.strip() else {}


# --- one measured run -----------------------------------------------------------------------------
def run_once(label: str, host_url: str, n: int, proxy_urls: list[str] | None, concurrency: int,
             faults: bool) -> dict:
    from soldsight.download.run import download_pending
    from soldsight.settings import Settings
    from warehouse.connection import open_warehouse

    with tempfile.TemporaryDirectory(prefix="soldsight-bench-") as tmp:
        home = Path(tmp) / "home"
        settings = dataclasses.replace(
            Settings.from_env({}), home=home, per_host_rate=0.0, per_host_concurrency=64,
            prefer_large_images=False, backoff_base=0.05, backoff_max=0.5, proxy_cooldown=0.5,
            http_timeout=5.0, max_attempts=8, download_concurrency=concurrency)
        urls = [f"{host_url}/images/g/b{i}/s-l500.jpg" for i in range(n)]
        with open_warehouse(settings) as con:
            con.execute("CREATE TEMP TABLE u AS SELECT unnest(?::VARCHAR[]) AS url", [urls])
            con.execute("INSERT INTO listings (source, listing_id, sold, image_urls, origin, record_hash, "
                        "ingested_at, raw) SELECT 'ebay', 'L' || row_number() OVER (), true, [url], 'bench', "
                        "md5(url), now(), '{}' FROM u")
        proxies_file = None
        if proxy_urls:
            proxies_file = Path(tmp) / "proxies.txt"
            proxies_file.write_text("\n".join(proxy_urls))
        t0 = time.perf_counter()
        s = download_pending(settings, proxies_file=proxies_file, use_proxy=bool(proxy_urls),
                             concurrency=concurrency)
        wall = time.perf_counter() - t0
    lat = sorted(s.latencies) or [0.0]
    return {
        "label": label, "ok": s.downloaded, "failed": s.failed_total, "failed_reasons": dict(s.failed_transient),
        "seconds": wall, "img_s": s.downloaded / wall, "p50_ms": 1000 * statistics.median(lat),
        "p95_ms": 1000 * lat[int(0.95 * (len(lat) - 1))], "retries": s.retries,
        "mb": s.bytes / 1e6, "faults": faults,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=8, help="worker threads (the product default is 8)")
    ap.add_argument("--kb", type=int, default=50)
    args = ap.parse_args()

    results = []
    for faults in (False, True):
        host_cfg = {"images": args.images, "kb": args.kb}
        if faults:   # 20% transient: 5xx, resets, truncated bodies, 429s
            host_cfg["faults"] = {"error": 0.08, "reset": 0.04, "truncate": 0.04, "rate_limit": 0.04}
        proxy_cfg = {"proxies": 10, "dead": 3} if faults else {"proxies": 4}
        host, host_info = start("host", host_cfg)
        prox, prox_info = start("proxies", proxy_cfg)
        try:
            tag = " +faults" if faults else ""
            live = proxy_cfg["proxies"] - proxy_cfg.get("dead", 0)
            results.append(run_once(f"direct{tag}", host_info["url"], args.images, None, args.concurrency, faults))
            results.append(run_once(f"{proxy_cfg['proxies']} proxies ({proxy_cfg.get('dead', 0)} dead, {live} live){tag}",
                                    host_info["url"], args.images, prox_info["urls"], args.concurrency, faults))
        finally:
            stop(prox)
            stop(host)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    print(f"download bench: {args.images} photos of ~{args.kb} KB, concurrency {args.concurrency}, "
          f"{os.cpu_count()} cores; image host and proxies in separate processes on this machine; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'run':<38}{'ok':>6}{'failed':>7}{'img/s':>8}{'MB/s':>7}{'p50 ms':>8}{'p95 ms':>8}{'retries':>8}")
    for r in results:
        print(f"{r['label']:<38}{r['ok']:>6}{r['failed']:>7}{r['img_s']:>8.0f}{r['mb'] / r['seconds']:>7.1f}"
              f"{r['p50_ms']:>8.1f}{r['p95_ms']:>8.1f}{r['retries']:>8}")
    for faults in (False, True):
        d, p = [r for r in results if r["faults"] == faults]
        print(f"ratio proxies/direct{' with faults' if faults else ''}: {p['img_s'] / d['img_s']:.2f}")
    print(f"peak RSS of the downloader process: {peak_mb:.0f} MB; its CPU time "
          f"{cpu.ru_utime + cpu.ru_stime:.1f}s for {4 * args.images} downloads (with set-up)")
    if any(r["failed_reasons"] for r in results):
        print("left for the next run:", {r["label"]: r["failed_reasons"] for r in results if r["failed_reasons"]})


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], json.loads(sys.argv[3]))
    else:
        main()
