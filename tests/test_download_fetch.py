"""The retry/rotation loop against the local world: real image host, real proxies with faults."""
from __future__ import annotations

import time

import pytest

from soldsight.download.client import Fetcher
from soldsight.download.pool import ProxyPool
from soldsight.download.proxies import build_proxies, direct, gateway_slots
from tests.fixtures.download import path_of, photo, publish

KNOBS = dict(timeout=3.0, backoff_base=0.005, backoff_max=0.05, max_attempts=6)


def fetcher_for(urls: list[str], **kw) -> Fetcher:
    pool = ProxyPool(build_proxies(urls) if urls else [direct()], cooldown_base=0.02, cooldown_max=0.05)
    return Fetcher(pool, **{**KNOBS, **kw})


def test_healthy_proxies_share_the_work(world):
    urls = publish(world, 8)
    with fetcher_for(world.proxy_urls) as f:
        outcomes = [f.fetch_image(u) for u in urls]
    assert all(o.ok and o.attempts == 1 for o in outcomes)
    assert all(p.successes >= 1 for p in world.proxies)
    assert [o.last.body for o in outcomes] == [world.image_host.lookup(path_of(u))[0] for u in urls]


def test_dead_proxy_is_cooled_and_every_photo_arrives(world):
    world.proxies[0].set_mode("dead")
    urls = publish(world, 12)
    with fetcher_for(world.proxy_urls) as f:
        outcomes = [f.fetch_image(u) for u in urls]
        snap = {r["proxy"]: r for r in f.pool.snapshot()}
    assert all(o.ok for o in outcomes)
    dead = snap[world.proxies[0].masked_url]
    assert dead["successes"] == 0 and dead["failures"] >= 1 and dead["last_error"] == "proxy"
    # It stopped being used after its failures: far fewer attempts than a fair share of 12.
    assert dead["failures"] < 12 // 4 + 3


def test_flaky_proxy_errors_are_retried_elsewhere(world):
    world.proxies[1].set_mode("flaky", fail_rate=0.6)
    urls = publish(world, 16)
    with fetcher_for(world.proxy_urls) as f:
        outcomes = [f.fetch_image(u) for u in urls]
    assert all(o.ok for o in outcomes)
    assert world.proxies[1].failures >= 1
    retried = [o for o in outcomes if o.attempts > 1]
    assert retried and all(set(o.errors) <= {"http_502", "connection", "proxy", "truncated"} for o in retried)


@pytest.mark.parametrize("style,error", [("403", "http_403"), ("botcheck", "bot_check")])
def test_banned_proxy_is_benched_and_photos_come_through_others(world, style, error):
    world.proxies[2].set_mode("banned", ban_style=style)
    urls = publish(world, 10)
    with fetcher_for(world.proxy_urls) as f:
        outcomes = [f.fetch_image(u) for u in urls]
        snap = {r["proxy"]: r for r in f.pool.snapshot()}
    assert all(o.ok for o in outcomes)
    banned = snap[world.proxies[2].masked_url]
    assert banned["bans"] >= 1 and banned["successes"] == 0 and banned["last_error"] == error
    assert all(o.last.body[:3] == b"\xff\xd8\xff" for o in outcomes)   # never the bot page


def test_429_with_retry_after_is_honoured(world):
    [url] = publish(world, 1)
    world.image_host.faults.add(path_of(url), "rate_limit", times=1, retry_after=1)
    with fetcher_for([], backoff_max=5.0) as f:     # direct: the only route must wait it out
        out = f.fetch_image(url)
        h = f.pool.health["direct"]
    assert out.ok and out.attempts == 2 and out.errors == ["http_429"]
    assert h.bans == 1 and h.cooldowns == 1
    assert world.image_host.requests_for(path_of(url)) == 2
    # The retry waited: either in the back-off (>= Retry-After) or for the route's cool-down.
    assert f.pool.waits + (f.backoff(1, 1.0) >= 1.0) >= 1


def test_truncated_body_is_transient(world):
    [url] = publish(world, 1)
    world.image_host.faults.add(path_of(url), "truncate", times=2)
    with fetcher_for(world.proxy_urls) as f:
        out = f.fetch_image(url)
    assert out.ok and out.errors == ["truncated", "truncated"] and out.attempts == 3


def test_always_truncated_runs_out_of_tries_but_is_not_permanent(world):
    [url] = publish(world, 1)
    world.image_host.faults.add(path_of(url), "truncate")
    with fetcher_for(world.proxy_urls, max_attempts=4) as f:
        out = f.fetch_image(url)
    assert not out.ok and not out.permanent and out.error == "truncated" and out.attempts == 4


@pytest.mark.parametrize("kind,error", [("corrupt", "corrupt"), ("html", "not_image"),
                                        ("wrong_type", "content_type_mismatch"), ("empty", "not_image")])
def test_not_an_image_is_permanent_after_three_different_proxies(world, kind, error):
    [url] = publish(world, 1)
    world.image_host.faults.add(path_of(url), kind)
    with fetcher_for(world.proxy_urls) as f:
        out = f.fetch_image(url)
    assert not out.ok and out.permanent and out.error == error and out.attempts == 3
    assert sum(1 for p in world.proxies if p.requests) == 3   # three different proxies were asked


def test_not_an_image_once_then_fine_is_recovered(world):
    [url] = publish(world, 1)
    world.image_host.faults.add(path_of(url), "html", times=2)
    with fetcher_for(world.proxy_urls) as f:
        out = f.fetch_image(url)
    assert out.ok and out.errors == ["not_image", "not_image"]


@pytest.mark.parametrize("fmt", ["png", "jpeg"])
def test_bomb_is_refused_at_once(world, fmt):
    [url] = publish(world, 1)
    world.image_host.faults.add(path_of(url), "bomb", format=fmt)
    with fetcher_for(world.proxy_urls) as f:
        out = f.fetch_image(url)
    assert not out.ok and out.permanent and out.error == "too_many_pixels" and out.attempts == 1


def test_byte_limit_stops_reading(world):
    [url] = publish(world, 1)
    with fetcher_for(world.proxy_urls, max_bytes=200) as f:
        out = f.fetch_image(url)
    assert not out.ok and out.permanent and out.error == "too_large"


@pytest.mark.parametrize("kind,error", [("not_found", "http_404"), ("gone", "http_410")])
def test_404_and_410_are_permanent_at_once(world, kind, error):
    [url] = publish(world, 1)
    world.image_host.faults.add(path_of(url), kind)
    with fetcher_for(world.proxy_urls) as f:
        out = f.fetch_image(url)
        snap = f.pool.snapshot()
    assert not out.ok and out.permanent and out.error == error and out.attempts == 1
    assert sum(r["failures"] + r["bans"] for r in snap) == 0   # the proxy did its job


def test_5xx_and_resets_are_retried(world):
    urls = publish(world, 2)
    world.image_host.faults.add(path_of(urls[0]), "error", times=3, status=503)
    world.image_host.faults.add(path_of(urls[1]), "reset", times=2)
    with fetcher_for(world.proxy_urls) as f:
        a, b = f.fetch_image(urls[0]), f.fetch_image(urls[1])
    assert a.ok and a.errors == ["http_503"] * 3
    # A proxy retries a reset upstream once on its own, so the client may see fewer than two errors.
    assert b.ok and 1 <= len(b.errors) <= 2 and set(b.errors) <= {"connection", "http_502"}
    assert world.image_host.requests_for(path_of(urls[1])) == 3


def test_larger_ebay_size_first_then_fallback(world):
    urls = publish(world, 2)
    big = photo(99, side=96)
    world.image_host.put(path_of(urls[0]).replace("s-l500", "s-l1600"), big)
    with fetcher_for(world.proxy_urls, prefer_large=True) as f:
        a, b = f.fetch_image(urls[0]), f.fetch_image(urls[1])
    assert a.ok and a.fetched_url.endswith("/s-l1600.jpg") and (a.info.width, a.last.body) == (96, big)
    assert b.ok and b.fetched_url == urls[1] and b.errors == ["http_404"] and b.attempts == 2


def test_gateway_sessions_rotate_past_bad_exits(world):
    world.gateway.set_rates(dead=0.2, banned=0.2)
    urls = publish(world, 12)
    slots = gateway_slots(world.gateway.proxy_template, 3)
    world.gateway.set_session(slots[0].session, "banned")   # at least two bad exits to leave behind
    world.gateway.set_session(slots[1].session, "dead")
    pool = ProxyPool(slots, cooldown_base=0.02, cooldown_max=0.05)
    with Fetcher(pool, **{**KNOBS, "max_attempts": 12}) as f:
        outcomes = [f.fetch_image(u) for u in urls]
        snap = f.pool.snapshot()
    assert all(o.ok for o in outcomes)
    sessions = world.gateway.counters.by_key("requests")
    assert len(sessions) > 3                               # bad exits were left for new sessions
    rotations = sum(r["rotations"] for r in snap)
    assert rotations >= 1 and len(sessions) <= 3 + rotations   # every session seen came from a slot
    assert all("gwsecret" not in r["proxy"] for r in snap)


def test_fetch_page_never_returns_a_bot_check_page(world):
    page = b"<html><body><h1>Sold listings</h1></body></html>"
    world.image_host.put("/sch/results.html", page, "text/html; charset=utf-8")
    for p in world.proxies[:3]:
        p.set_mode("banned", ban_style="botcheck")
    with fetcher_for(world.proxy_urls) as f:
        got = f.fetch_page(world.image_host.url + "/sch/results.html")
        snap = {r["proxy"]: r for r in f.pool.snapshot()}
    assert got.ok and got.text == page.decode() and got.status == 200
    assert got.proxy == world.proxies[3].masked_url
    assert all(snap[p.masked_url]["bans"] >= 1 for p in world.proxies[:3])


def test_fetch_page_all_banned_fails_without_content(world):
    world.image_host.put("/sch/x.html", b"<html>ok</html>", "text/html")
    for p in world.proxies:
        p.set_mode("banned", ban_style="botcheck")
    with fetcher_for(world.proxy_urls, max_attempts=3) as f:
        got = f.fetch_page(world.image_host.url + "/sch/x.html")
    assert not got.ok and got.text is None and got.error == "bot_check" and not got.permanent


def test_fetch_page_404_is_permanent(world):
    with fetcher_for(world.proxy_urls) as f:
        got = f.fetch_page(world.image_host.url + "/no/such/page")
    assert not got.ok and got.permanent and got.status == 404 and got.attempts == 1


def test_wrong_proxy_password_is_a_proxy_failure_and_is_masked(world):
    bad = world.proxies[0].proxy_url.replace("secret0", "wrongpw1")
    [url] = publish(world, 1)
    with fetcher_for([bad], max_attempts=2) as f:
        out = f.fetch_image(url)
    assert not out.ok and out.error == "proxy_auth" and "wrongpw1" not in (out.detail or "")
    assert "wrongpw1" not in (out.last.proxy or "")


def test_dead_proxy_error_text_holds_no_password(world):
    world.proxies[0].set_mode("dead")
    [url] = publish(world, 1)
    with fetcher_for([world.proxies[0].proxy_url], max_attempts=1) as f:
        out = f.fetch_image(url)
    assert not out.ok and out.error == "proxy"
    assert "secret0" not in out.detail and "secret0" not in out.last.proxy


def test_rotated_gateway_sessions_do_not_pile_up_connection_pools(world):
    world.gateway.set_rates(flaky=1.0)     # every exit drops half its requests: many rotations
    world.gateway.fail_rate = 0.5
    urls = publish(world, 30)
    pool = ProxyPool(gateway_slots(world.gateway.proxy_template, 2), cooldown_base=0.02, cooldown_max=0.05)
    with Fetcher(pool, **{**KNOBS, "max_attempts": 20}) as f:
        outcomes = [f.fetch_image(u) for u in urls]
        f.session()   # prunes on the way in
        managers = len(f._local.adapter.proxy_manager)
        rotations = sum(r["rotations"] for r in f.pool.snapshot())
    assert all(o.ok for o in outcomes)
    assert rotations > 2 * 2 + 4 and managers <= 2 * 2 + 4


def test_a_wall_recognised_by_the_caller_bans_the_proxy(world):
    from soldsight.download.fetch import TRANSIENT
    from soldsight.download.validate import Invalid

    world.image_host.put("/sch/wall.html", b"<html>please solve this captcha</html>", "text/html")
    with fetcher_for(world.proxy_urls, max_attempts=3) as f:
        out = f.fetch(world.image_host.url + "/sch/wall.html",
                      check=lambda r: Invalid("bot_check", TRANSIENT, "captcha") if b"captcha" in r.body else "ok")
        snap = f.pool.snapshot()
    assert not out.ok and not out.permanent and out.attempts == 3
    assert sum(r["bans"] for r in snap) == 3 and sum(r["failures"] for r in snap) == 0


def test_stalled_body_times_out_and_is_retried(world):
    [url] = publish(world, 1)
    world.image_host.faults.add(path_of(url), "stall", times=1, stall=3.0)
    with fetcher_for(world.proxy_urls, timeout=0.3) as f:
        out = f.fetch_image(url)
    assert out.ok and out.errors == ["timeout"] and out.attempts == 2


def test_slow_proxy_times_out_and_the_others_carry_the_load(world):
    world.proxies[0].set_mode("slow", delay=2.0)
    urls = publish(world, 8)
    with fetcher_for(world.proxy_urls, timeout=0.3) as f:
        outcomes = [f.fetch_image(u) for u in urls]
        slow = {r["proxy"]: r for r in f.pool.snapshot()}[world.proxies[0].masked_url]
    assert all(o.ok for o in outcomes)
    assert slow["successes"] == 0 and slow["last_error"] == "timeout"
    assert sum(o.errors.count("timeout") for o in outcomes) == slow["failures"]
    # The slow proxy still forwards what we gave up on; let it finish so later tests see quiet counters.
    p = world.proxies[0]
    deadline = time.monotonic() + 10
    while p.successes + p.failures < p.requests and time.monotonic() < deadline:
        time.sleep(0.05)
