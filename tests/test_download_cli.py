"""`soldsight download` as a real subprocess: kill -9 mid-run and resume; no secret anywhere."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from soldsight.cli import build_parser
from tests.fixtures.download import add_listings, path_of, publish

ROOT = Path(__file__).resolve().parents[1]
FAST_ENV = {
    "SOLDSIGHT_HTTP_TIMEOUT": "3", "SOLDSIGHT_BACKOFF_BASE": "0.005", "SOLDSIGHT_BACKOFF_MAX": "0.05",
    "SOLDSIGHT_PROXY_COOLDOWN": "0.02", "SOLDSIGHT_PER_HOST_RATE": "0", "SOLDSIGHT_PREFER_LARGE_IMAGES": "false",
}


def _env(settings, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOLDSIGHT_")}
    env.update(FAST_ENV, SOLDSIGHT_HOME=str(settings.home), PYTHONPATH=str(ROOT), **extra)
    return env


def _download(settings, *args, env_extra=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "soldsight", "download", "--no-progress", *args],
                          env=_env(settings, **(env_extra or {})), cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def _rows(settings) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute("SELECT source, listing_id, url, status, sha256, path FROM images").fetchall()
    finally:
        con.close()


def test_help_names_every_option():
    sub = build_parser()._subparsers._group_actions[0].choices["download"]
    text = sub.format_help()
    for option in ("--limit", "--concurrency", "--proxies", "--no-proxy", "--retry-permanent"):
        assert option in text


def test_kill_mid_run_then_resume(world, settings):
    n, workers = 60, 2
    urls = publish(world, n, prefix="k")
    add_listings(settings, {f"l{i}": urls[i::3] for i in range(3)})
    world.image_host.faults.set_rate("slow", 1.0, delay=0.03)   # a run long enough to kill in the middle

    proc = subprocess.Popen([sys.executable, "-m", "soldsight", "download", "--no-progress",
                             "--concurrency", str(workers), "--proxies", str(world.proxies_file)],
                            env=_env(settings), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while world.image_host.counters.get("requests") < n // 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    served_before = {p: world.image_host.requests_for(p) for p in map(path_of, urls)}
    assert 0 < sum(served_before.values()) < n, "the kill did not land mid-run"

    world.image_host.faults.reset()
    done = _download(settings, "--concurrency", str(workers), "--proxies", str(world.proxies_file))
    assert done.returncode == 0, done.stderr
    assert "recovered" in done.stdout   # the killed run's journal was merged, not thrown away

    rows = _rows(settings)
    keys = [r[:3] for r in rows]
    assert len(keys) == len(set(keys)) == n and all(r[3] == "ok" for r in rows)
    images = settings.home / "images"
    assert not [p for p in images.rglob("*") if p.is_file() and p.name.startswith(".")]   # no partial files
    files = [p for p in images.rglob("*") if p.is_file()]
    assert len(files) == n
    for p in files:
        assert hashlib.sha256(p.read_bytes()).hexdigest() == p.stem
    # Only requests in flight at the moment of the kill can have been made twice; everything stored
    # before the kill was journaled and not fetched again. Bytes served match.
    twice = {p for p in map(path_of, urls) if world.image_host.requests_for(p) > 1}
    assert len(twice) <= workers
    assert all(world.image_host.requests_for(p) == 2 for p in twice)
    assert all(served_before[p] == 1 for p in twice)
    assert not list((settings.home / "journal").glob("*.jsonl"))

    # And a third run does nothing at all.
    world.image_host.counters.reset()
    again = _download(settings, "--proxies", str(world.proxies_file))
    assert again.returncode == 0 and world.image_host.counters.get("requests") == 0
    assert "skipped 60" in again.stdout


def test_no_secret_in_output_logs_lake_or_warehouse(world, settings, tmp_path):
    world.proxies[0].set_mode("dead")
    world.proxies[1].set_mode("banned", ban_style="botcheck")
    world.proxies[2].set_mode("flaky", fail_rate=0.5)
    wrong = world.proxies[3].proxy_url.replace("secret3", "badsecret3")
    file = tmp_path / "proxies.txt"
    file.write_text("# test proxies\n" + "\n".join([*world.proxy_urls, wrong]) + "\n")
    urls = publish(world, 12, prefix="s")
    world.image_host.faults.add(path_of(urls[0]), "not_found")
    world.image_host.faults.add(path_of(urls[1]), "error", status=503)
    add_listings(settings, {"a": urls})

    out = _download(settings, "--proxies", str(file), "--concurrency", "3",
                    env_extra={"SOLDSIGHT_PROXY_GATEWAY": world.gateway.proxy_template,
                               "SOLDSIGHT_MAX_ATTEMPTS": "3"})
    assert out.returncode == 0, out.stderr
    assert "downloaded" in out.stdout and "proxies" in out.stdout and ":***@" in out.stdout
    secrets = ["secret0", "secret1", "secret2", "secret3", "badsecret3", "gwsecret"]
    import base64
    secrets += [base64.b64encode(f"user{i}:secret{i}".encode()).decode() for i in range(4)]
    blobs = {"stdout": out.stdout.encode(), "stderr": out.stderr.encode()}
    for path in settings.home.rglob("*"):
        if path.is_file() and not path.is_relative_to(settings.images_dir):
            blobs[str(path)] = path.read_bytes()
    assert any(name.endswith("download.log") for name in blobs) and any(name.endswith(".duckdb") for name in blobs)
    assert any(name.endswith(".parquet") for name in blobs)
    for name, blob in blobs.items():
        for secret in secrets:
            assert secret.encode() not in blob, f"{secret} found in {name}"
    # DuckDB may compress strings on disk, so read the text back as well.
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        text = con.execute("SELECT string_agg(concat_ws(' ', url, error, detail, proxy, fetched_url), ' ') "
                           "FROM images").fetchall()[0][0]
        n = con.execute("SELECT count(*) FROM images").fetchall()[0][0]
    finally:
        con.close()
    assert n == 12 and ":***@" in text
    assert not any(secret in text for secret in secrets)


def test_bad_proxy_file_is_a_clear_error_without_the_password(settings, tmp_path):
    file = tmp_path / "proxies.txt"
    file.write_text("http://u:leakme99@127.0.0.1\n")   # no port
    out = _download(settings, "--proxies", str(file))
    assert out.returncode == 2 and "no port" in out.stderr and "leakme99" not in out.stderr + out.stdout
