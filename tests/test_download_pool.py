"""The proxy pool's plain logic: proxy lists, rotation, health, cool-downs, bans and gateways."""
from __future__ import annotations

import random
import threading
import time

import pytest

from soldsight.download.pool import BAN, FAILURE, ORIGIN, SUCCESS, AllProxiesDown, ProxyPool
from soldsight.download.proxies import (Proxy, ProxyConfigError, build_proxies, direct, gateway_slots,
                                        parse_proxy_lines)

# --- proxy lists ---------------------------------------------------------------------------


def test_proxy_lines_skip_comments_blanks_and_duplicates():
    text = "# my proxies\n\nhttp://a:pw1@10.0.0.1:8000\n10.0.0.2:8001  # no scheme\nhttp://a:pw1@10.0.0.1:8000\n"
    assert parse_proxy_lines(text) == ["http://a:pw1@10.0.0.1:8000", "http://10.0.0.2:8001"]


def test_bad_proxy_line_names_the_line_and_masks_the_password():
    with pytest.raises(ProxyConfigError) as err:
        parse_proxy_lines("http://a:pw-line2@10.0.0.1:8000\nftp://a:topsecret9@host\n")
    assert "line 2" in str(err.value) and "topsecret9" not in str(err.value)


def test_gateway_slots_rotate_sessions_and_show_no_password():
    slots = gateway_slots("http://user-session-{session}:gwpass1@gw.example:7000", 3)
    assert len(slots) == 3 and len({s.session for s in slots}) == 3
    assert all("gwpass1" not in s.key and "gwpass1" not in s.label for s in slots)
    first = slots[0].session
    slots[0].rotate()
    assert slots[0].session != first and slots[0].url.startswith(f"http://user-session-{slots[0].session}:")
    with pytest.raises(ProxyConfigError):
        gateway_slots("http://user:pw@gw.example:7000", 2)


# --- pool ------------------------------------------------------------------------------------


def _pool(n=3, **kw):
    kw.setdefault("cooldown_base", 0.02)
    kw.setdefault("cooldown_max", 0.05)
    return ProxyPool(build_proxies([f"http://u{i}:pw@10.0.0.{i}:80" for i in range(n)]), **kw)


def test_pool_rotates_over_healthy_proxies():
    pool = _pool(3)
    seen = []
    for _ in range(6):
        p = pool.acquire()
        seen.append(p.key)
        pool.report(p, SUCCESS, latency=0.01)
    assert seen[:3] == seen[3:] and len(set(seen)) == 3


def test_pool_prefers_proxies_not_yet_tried_for_the_url():
    pool = _pool(3)
    tried = set()
    for _ in range(3):
        p = pool.acquire(exclude=tried)
        tried.add(p.key)
        pool.report(p, FAILURE)
    assert len(tried) == 3


def test_consecutive_failures_cool_a_proxy_down_and_a_probe_brings_it_back():
    pool = _pool(2, max_failures=3, cooldown_base=30, cooldown_max=60)
    bad = pool.proxies[0]
    for _ in range(3):
        pool.health[bad.key].in_flight += 1
        pool.report(bad, FAILURE, error="timeout")
    assert pool.snapshot()[0]["state"] == "cooling"
    # While it cools, only the other proxy is handed out.
    assert {pool.acquire().key for _ in range(4)} == {pool.proxies[1].key}
    # End the cool-down: exactly one probe at a time, and a success makes it healthy again.
    pool.health[bad.key].cooldown_until = 0
    for p in pool.proxies[1:]:
        pool.health[p.key].cooldown_until = 1e18
    probe = pool.acquire()
    assert probe is bad and pool.snapshot()[0]["state"] == "probing"
    with pytest.raises(AllProxiesDown):
        pool.acquire(timeout=0.05)   # the probe is in flight; no second request through it
    pool.report(bad, SUCCESS, latency=0.02)
    h = pool.health[bad.key]
    assert (h.level, h.consecutive_failures, h.probing) == (0, 0, False)


def test_failed_probe_cools_longer():
    pool = _pool(1, max_failures=1, cooldown_base=10, cooldown_max=1000)
    p = pool.proxies[0]
    spans = []
    for _ in range(3):
        pool.health[p.key].cooldown_until = 0   # the cool-down is over: the next request is a probe
        probe = pool.acquire()
        before = time.monotonic()
        pool.report(probe, FAILURE)
        spans.append(pool.health[p.key].cooldown_until - before)
    assert spans[0] < spans[1] < spans[2] and spans[2] >= 10 * 4 * 0.75


def test_ban_cools_at_once_for_at_least_retry_after():
    pool = _pool(2, cooldown_base=0.01)
    p = pool.acquire()
    before = time.monotonic()
    pool.report(p, BAN, retry_after=5.0, error="http_429")
    row = [r for r in pool.snapshot() if r["proxy"] == p.key][0]
    assert row["state"] == "cooling" and row["bans"] == 1
    assert pool.health[p.key].cooldown_until - before >= 5.0


def test_all_down_waits_for_the_earliest_return_instead_of_spinning():
    pool = _pool(2, cooldown_base=0.05, cooldown_max=0.05)
    for p in pool.proxies:
        pool.health[p.key].in_flight += 1
        pool.report(p, BAN)
    got = pool.acquire()        # blocks until a cool-down ends, then hands that proxy out
    assert got in pool.proxies and pool.waits == 1


def test_all_dead_stops_with_a_clear_message():
    pool = _pool(2, cooldown_base=0.001, cooldown_max=0.002, dead_level=3)
    with pytest.raises(AllProxiesDown) as err:
        for _ in range(100):
            p = pool.acquire()
            pool.report(p, FAILURE, error="proxy")
    assert "all 2 proxies are down" in str(err.value) and "proxy" in str(err.value)


def test_gateway_ban_rotates_the_session_without_cooling():
    pool = ProxyPool(gateway_slots("http://user-session-{session}:pw@gw:1", 1), cooldown_base=60)
    p = pool.acquire()
    old = p.session
    pool.report(p, BAN)
    assert p.session != old and pool.snapshot()[0]["state"] == "healthy" and p.rotations == 1


def test_pool_is_thread_safe_under_contention():
    pool = _pool(3)
    errors = []

    def work():
        try:
            for i in range(200):
                p = pool.acquire()
                pool.report(p, SUCCESS if i % 5 else FAILURE, latency=0.001)
        except Exception as exc:   # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    snap = pool.snapshot()
    assert sum(r["successes"] + r["failures"] for r in snap) == 1600
    assert all(pool.health[p.key].in_flight == 0 for p in pool.proxies)




def test_direct_proxy_has_no_url():
    d = direct()
    assert isinstance(d, Proxy) and d.url is None and d.requests_proxies() is None and d.label == "direct"


def test_origin_errors_do_not_bench_a_working_proxy():
    pool = _pool(1, max_failures=2)
    p = pool.proxies[0]
    for _ in range(5):
        pool.acquire()
        pool.report(p, ORIGIN, error="http_503")
    row = pool.snapshot()[0]
    assert row["state"] == "healthy" and row["origin_errors"] == 5 and row["failures"] == 0


def test_direct_route_waits_exactly_retry_after_on_429():
    pool = ProxyPool([direct()], cooldown_base=60, rng=random.Random(0))
    p = pool.acquire()
    before = time.monotonic()
    pool.report(p, BAN, retry_after=0.5, error="http_429")
    assert 0.5 <= pool.health["direct"].cooldown_until - before < 1.0   # not the 60 s exponential


def test_gateway_failure_rotates_at_once_and_cools_only_when_fresh_sessions_keep_failing():
    pool = ProxyPool(gateway_slots("http://user-session-{session}:pw@gw:1", 1), cooldown_base=60, max_failures=3)
    p = pool.proxies[0]
    sessions = {p.session}
    for i in range(3):
        pool.acquire()
        pool.report(p, FAILURE, error="connection")
        sessions.add(p.session)
        assert pool.snapshot()[0]["state"] == ("cooling" if i == 2 else "healthy")
    assert len(sessions) == 4


def test_waiting_acquire_gives_up_when_the_run_is_cancelled():
    from soldsight.download.pool import Cancelled

    pool = _pool(1, cooldown_base=1000, cooldown_max=1000)
    p = pool.acquire()
    pool.report(p, BAN)
    cancel = threading.Event()
    got = []

    def waiter():
        try:
            pool.acquire(cancel=cancel)
        except Cancelled as exc:
            got.append(exc)

    t = threading.Thread(target=waiter)
    t.start()
    cancel.set()
    pool.wake()
    t.join(timeout=10)
    assert not t.is_alive() and got
