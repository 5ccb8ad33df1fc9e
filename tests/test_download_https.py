"""HTTPS photos through CONNECT tunnels: the real CDN's path, with a local TLS image host and the world's proxies.

The certificate in tests/fixtures/tls/ is self-signed for 127.0.0.1 (test data only, valid until 2126);
SOLDSIGHT_CA_BUNDLE tells the downloader to trust it, as a user would for a company's TLS proxy.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from soldsight.download.client import Fetcher
from soldsight.download.pool import ProxyPool
from soldsight.download.proxies import build_proxies
from soldsight.download.run import download_pending
from tests.fixtures.download import add_listings, image_rows, photo
from world.servers import ImageHost

TLS = Path(__file__).parent / "fixtures" / "tls"
CERT, KEY = TLS / "cert.pem", TLS / "key.pem"


@pytest.fixture(scope="module")
def https_host():
    with ImageHost(tls=(CERT, KEY)) as host:
        yield host


def publish_https(host, n: int, prefix: str) -> list[str]:
    urls = []
    for i in range(n):
        path = f"/images/g/{prefix}{i}/s-l500.jpg"
        host.put(path, photo(hash((prefix, i)) & 0xFFFF))
        urls.append(host.url + path)
    return urls


def fetcher(world, **kw) -> Fetcher:
    pool = ProxyPool(build_proxies(world.proxy_urls), cooldown_base=0.02, cooldown_max=0.05)
    return Fetcher(pool, timeout=3.0, backoff_base=0.005, backoff_max=0.05, max_attempts=4, **kw)


def test_https_photos_come_through_connect_tunnels(world, https_host):
    urls = publish_https(https_host, 8, "tls-a")
    assert all(u.startswith("https://127.0.0.1:") for u in urls)
    with fetcher(world, ca_bundle=CERT) as f:
        outcomes = [f.fetch_image(u) for u in urls]
    assert all(o.ok and o.attempts == 1 for o in outcomes), [o.last.detail for o in outcomes]
    for u, o in zip(urls, outcomes):
        assert o.last.body == https_host.lookup(u.split(str(https_host.port), 1)[1])[0]
    # Every request went through a proxy tunnel, none straight to the host.
    assert sum(p.successes for p in world.proxies) >= 1
    assert https_host.counters.get("requests") >= 8


def test_an_untrusted_certificate_is_a_tls_error_not_a_crash(world, https_host):
    [url] = publish_https(https_host, 1, "tls-b")
    with fetcher(world) as f:   # the bundled CAs do not know the local certificate
        outcome = f.fetch_image(url)
    assert not outcome.ok and set(outcome.errors) == {"tls"} and outcome.attempts == 4
    assert "secret" not in (outcome.last.detail or "")   # proxy passwords are secret0..3


def test_download_pending_over_https_with_the_ca_bundle_setting(world, https_host, dl_settings):
    urls = publish_https(https_host, 4, "tls-c")
    add_listings(dl_settings, {"t1": urls[:2], "t2": urls[2:]})
    s = dataclasses.replace(dl_settings, ca_bundle=CERT)
    summary = download_pending(s, proxies_file=world.proxies_file, concurrency=2)
    rows = image_rows(s)
    assert summary.downloaded == 4 and summary.failed_total == 0
    assert [r["status"] for r in rows] == ["ok"] * 4
    assert all(r["proxy"].startswith("http://user") and ":***@" in r["proxy"] for r in rows)
