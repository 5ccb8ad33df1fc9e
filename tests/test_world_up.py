"""world.up / world.demo and `soldsight world up`: a generated world with every server running."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
import requests

from world.up import up

TINY = {"albums": 4, "photos": 8, "queries": 2, "workers": 1}


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    world_dir = tmp_path_factory.mktemp("up")
    with up(world_dir, seed=3, proxy_modes=["healthy", "dead", "banned"], image_faults={"error": 0.0}, **TINY) as world:
        yield world


def test_up_serves_the_export_through_its_proxies(running):
    records = [r for r in json.loads(running.export_path.read_text()) if "image_url" in r]
    assert records and all(r["image_url"].startswith(running.image_host.url) for r in records)
    healthy, dead, banned = running.proxies[:3]
    url = records[0]["image_url"]
    assert requests.get(url, proxies={"http": healthy.proxy_url}, timeout=5).status_code == 200
    with pytest.raises(requests.exceptions.ProxyError):
        requests.get(url, proxies={"http": dead.proxy_url}, timeout=5)
    assert requests.get(url, proxies={"http": banned.proxy_url}, timeout=5).status_code == 403
    gw = requests.get(url, proxies={"http": running.gateway.proxy_url_for("abc")}, timeout=5)
    assert gw.status_code == 200 and gw.content == requests.get(url, timeout=5).content


def test_up_writes_proxy_list_and_env_and_masks_what_it_describes(running):
    lines = [x for x in running.proxies_file.read_text().splitlines() if not x.startswith("#")]
    assert lines == running.proxy_urls and len(lines) == 4
    env = running.env_file.read_text()
    assert str(running.proxies_file) in env and running.gateway.password in env
    described = json.dumps(running.describe())
    for secret in [p.password for p in running.proxies] + [running.gateway.password]:
        assert secret not in described
    assert (running.dir / "world.json").read_text() == json.dumps(running.describe(), indent=1)


def test_up_starts_the_marketplace_when_there_is_one(running):
    if running.marketplace is None:
        pytest.skip("world/marketplace.py is not there")
    listing = json.loads(running.catalogue_path.read_text())["listings"][0]
    page = requests.get(f"{running.marketplace_url}/itm/{listing['listing_id']}", timeout=5,
                        headers={"User-Agent": "Mozilla/5.0"})
    assert page.status_code == 200 and running.image_host.url in page.text


def test_up_reuses_a_world_already_generated(running, tmp_path):
    again = up(running.dir, seed=3, marketplace=False, **TINY)
    try:
        assert again.generation.get("reused") is True
        assert again.image_host.port != running.image_host.port
    finally:
        again.stop()


def test_soldsight_world_up_prints_urls_and_stops_on_ctrl_c(tmp_path):
    env = {**os.environ, "SOLDSIGHT_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "soldsight.cli", "world", "up", "--albums", "3", "--photos", "6",
         "--queries", "1", "--proxy-modes", "flaky", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        info = json.loads(proc.stdout.readline())
        assert info["world_dir"] == str(tmp_path / "home" / "world")
        assert all(":***@" in p for p in info["proxies"]) and info["proxy_modes"][0] == "flaky"
        proxy_lines = [x for x in open(info["proxies_file"]).read().splitlines() if not x.startswith("#")]
        assert all(":***@" not in x for x in proxy_lines)
        record = next(r for r in json.load(open(info["export"])) if "image_url" in r)
        assert requests.get(record["image_url"], proxies={"http": proxy_lines[1]}, timeout=5).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "world stopped" in out
    with pytest.raises(requests.ConnectionError):
        requests.get(info["image_host"], timeout=2)


def test_world_up_help_lists_its_options():
    out = subprocess.run([sys.executable, "-m", "soldsight.cli", "world", "up", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for option in ("--dir", "--seed", "--albums", "--photos", "--port", "--proxy-modes", "--fault"):
        assert option in out


@pytest.mark.parametrize("flags, said", [
    (["--albums", "0"], "need at least one album"),
    (["--queries", "-1"], "queries must be at least 0, not -1"),
    (["--proxies", "-1"], "--proxies must be at least 0"),
])
def test_world_up_refuses_sizes_before_generating_anything(flags, said, tmp_path, capsys):
    from soldsight import cli

    with pytest.raises(SystemExit) as stop:
        cli.main(["world", "up", "--dir", str(tmp_path / "w"), *flags])
    assert said in str(stop.value.code)
    assert not (tmp_path / "w").exists()
