"""Every knob of the forward proxies and the gateway, exercised with a plain `requests` client."""
from __future__ import annotations

import base64
import http.client
import socket

import pytest
import requests

from world.servers import BOT_CHECK_PAGE, ForwardProxy


def auth_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# --- forward proxies ---------------------------------------------------------------------------

def test_proxy_forwards_http_with_credentials_and_counts(world, img):
    url, path, data = img
    proxy = world.proxies[0]
    assert proxy.proxy_url.startswith(f"http://{proxy.username}:{proxy.password}@127.0.0.1:")
    assert proxy.password not in proxy.masked_url
    with requests.Session() as s:
        for _ in range(3):  # keep-alive on both hops
            r = s.get(url, proxies={"http": proxy.proxy_url}, timeout=5)
            assert r.status_code == 200 and r.content == data
    assert (proxy.requests, proxy.successes, proxy.failures) == (3, 3, 0)
    assert world.image_host.requests_for(path) == 3


def test_proxies_file_lists_every_proxy(world):
    assert world.proxies_file.read_text().split() == world.proxy_urls


@pytest.mark.parametrize("creds", [None, ("user0", "wrong"), ("nobody", "secret0")])
def test_proxy_requires_basic_auth(world, img, creds):
    url, path, _ = img
    proxy = world.proxies[0]
    proxy_url = proxy.url if creds is None else f"http://{creds[0]}:{creds[1]}@127.0.0.1:{proxy.port}"
    r = requests.get(url, proxies={"http": proxy_url}, timeout=5)
    assert r.status_code == 407 and "Basic" in r.headers["Proxy-Authenticate"]
    assert (proxy.requests, proxy.failures) == (1, 1)
    assert world.image_host.requests_for(path) == 0


def test_proxy_connect_tunnel(world, img):
    url, path, data = img
    proxy = world.proxies[1]
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
    conn.set_tunnel("127.0.0.1", world.image_host.port,
                    headers={"Proxy-Authorization": auth_header(proxy.username, proxy.password)})
    conn.request("GET", path)
    resp = conn.getresponse()
    assert resp.status == 200 and resp.read() == data
    conn.close()
    assert proxy.successes == 1


def test_proxy_connect_with_request_in_the_same_packet(world, img):
    url, path, data = img
    proxy = world.proxies[1]
    target = f"127.0.0.1:{world.image_host.port}"
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(
            f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n"
            f"Proxy-Authorization: {auth_header(proxy.username, proxy.password)}\r\n\r\n"
            f"GET {path} HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n".encode()
        )
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200")
    assert received.endswith(data)


def test_proxy_connect_requires_auth(world):
    conn = http.client.HTTPConnection("127.0.0.1", world.proxies[0].port, timeout=5)
    conn.set_tunnel("127.0.0.1", world.image_host.port)
    with pytest.raises(OSError, match="407"):
        conn.request("GET", "/")


def test_proxy_dead_refuses_connections_then_recovers_on_same_port(world, img):
    url, path, data = img
    proxy = world.proxies[2]
    port = proxy.port
    proxy.set_mode("dead")
    with pytest.raises(requests.exceptions.ProxyError):
        requests.get(url, proxies={"http": proxy.proxy_url}, timeout=5)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)
    proxy.set_mode("healthy")
    assert proxy.port == port
    assert requests.get(url, proxies={"http": proxy.proxy_url}, timeout=5).content == data


def test_proxy_started_dead_refuses_connections():
    with ForwardProxy(mode="dead") as proxy:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", proxy.port), timeout=5)


def test_proxy_flaky_fails_a_seeded_fraction_with_502_or_reset(world, img):
    url, path, data = img
    proxy = world.proxies[3]
    proxy.set_mode("flaky", fail_rate=0.5)
    outcomes = []
    for _ in range(80):
        try:
            outcomes.append(requests.get(url, proxies={"http": proxy.proxy_url}, timeout=5).status_code)
        except requests.ConnectionError:
            outcomes.append("reset")
    assert 20 <= outcomes.count(200) <= 60
    assert outcomes.count(502) > 0 and outcomes.count("reset") > 0
    assert proxy.requests == 80 and proxy.successes == outcomes.count(200)
    assert proxy.failures == 80 - outcomes.count(200)


def test_proxy_slow_adds_latency(world, img):
    url, path, data = img
    proxy = world.proxies[0]
    proxy.set_mode("slow", delay=3.0)
    with pytest.raises(requests.Timeout):
        requests.get(url, proxies={"http": proxy.proxy_url}, timeout=0.5)
    proxy.set_mode("slow", delay=0.2)
    assert requests.get(url, proxies={"http": proxy.proxy_url}, timeout=10).content == data


def test_proxy_banned_403_and_bot_check_page(world, img):
    url, path, _ = img
    proxy = world.proxies[0]
    proxy.set_mode("banned")
    assert requests.get(url, proxies={"http": proxy.proxy_url}, timeout=5).status_code == 403
    proxy.set_mode("banned", ban_style="botcheck")
    r = requests.get(url, proxies={"http": proxy.proxy_url}, timeout=5)
    assert r.status_code == 200 and "<title>Pardon Our Interruption</title>" in r.text
    assert r.content == BOT_CHECK_PAGE
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
    conn.set_tunnel("127.0.0.1", world.image_host.port,
                    headers={"Proxy-Authorization": auth_header(proxy.username, proxy.password)})
    with pytest.raises(OSError, match="403"):
        conn.request("GET", path)
    assert world.image_host.requests_for(path) == 0
    assert proxy.failures == 3 and proxy.counters.get("bans") == 3


def test_proxy_passes_upstream_faults_through(world, img):
    url, path, data = img
    proxy = world.proxies[0]
    world.image_host.faults.fail_then_succeed(path, 1, "rate_limit", retry_after=9)
    r = requests.get(url, proxies={"http": proxy.proxy_url}, timeout=5)
    assert r.status_code == 429 and r.headers["Retry-After"] == "9"
    world.image_host.faults.add(path, "truncate")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(url, proxies={"http": proxy.proxy_url}, timeout=5)
    world.image_host.faults.reset()
    assert requests.get(url, proxies={"http": proxy.proxy_url}, timeout=5).content == data


def test_proxy_unreachable_upstream_gives_502(world):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    r = requests.get(f"http://127.0.0.1:{closed_port}/x", proxies={"http": world.proxies[0].proxy_url}, timeout=5)
    assert r.status_code == 502 and world.proxies[0].failures == 1


# --- gateway -----------------------------------------------------------------------------------

def test_gateway_sessions_map_to_stable_distinct_exits(world):
    gw = world.gateway
    exits = {s: gw.exit_for(s) for s in (f"s{i}" for i in range(50))}
    assert len(set(exits.values())) >= 45
    assert all(gw.exit_for(s) == e for s, e in exits.items())
    assert gw.proxy_url_for("abc").startswith("http://user-session-abc:")
    assert "{session}" in gw.proxy_template


def test_gateway_per_session_health_and_counters(world, img):
    url, path, data = img
    gw = world.gateway
    gw.set_session("bad", "banned")
    gw.set_session("gone", "dead")
    gw.ban_style = "botcheck"
    good = requests.get(url, proxies={"http": gw.proxy_url_for("good")}, timeout=5)
    assert good.content == data
    bad = requests.get(url, proxies={"http": gw.proxy_url_for("bad")}, timeout=5)
    assert "Pardon Our Interruption" in bad.text
    with pytest.raises(requests.ConnectionError):
        requests.get(url, proxies={"http": gw.proxy_url_for("gone")}, timeout=5)
    gw.set_session("slowpoke", "slow")
    gw.delay = 3.0
    with pytest.raises(requests.Timeout):
        requests.get(url, proxies={"http": gw.proxy_url_for("slowpoke")}, timeout=0.5)
    assert gw.counters.get("successes", "good") == 1
    assert gw.counters.get("failures", "bad") == 1
    assert gw.counters.get("failures", "gone") == 1
    assert gw.counters.get("requests", "slowpoke") == 1


def test_gateway_flaky_session(world, img):
    url, path, _ = img
    gw = world.gateway
    gw.set_session("wobbly", "flaky")
    gw.fail_rate = 0.5
    ok = 0
    for _ in range(40):
        try:
            ok += requests.get(url, proxies={"http": gw.proxy_url_for("wobbly")}, timeout=5).status_code == 200
        except requests.ConnectionError:
            pass
    assert 8 <= ok <= 32
    assert gw.counters.get("failures", "wobbly") == 40 - ok


def test_gateway_rates_are_seeded_and_match_behaviour(world, img):
    url, path, _ = img
    gw = world.gateway
    gw.set_rates(banned=0.3, dead=0.2)
    modes = {f"sess{i}": gw.mode_for(f"sess{i}") for i in range(300)}
    assert 60 <= list(modes.values()).count("banned") <= 120
    assert 30 <= list(modes.values()).count("dead") <= 90
    banned = next(s for s, m in modes.items() if m == "banned")
    healthy = next(s for s, m in modes.items() if m == "healthy")
    assert requests.get(url, proxies={"http": gw.proxy_url_for(banned)}, timeout=5).status_code == 403
    assert requests.get(url, proxies={"http": gw.proxy_url_for(healthy)}, timeout=5).status_code == 200
    gw.set_session(banned, "healthy")  # a per-session setting wins over the rates
    assert requests.get(url, proxies={"http": gw.proxy_url_for(banned)}, timeout=5).status_code == 200


def test_gateway_refuses_other_usernames_and_tunnels_for_sessions(world, img):
    url, path, data = img
    gw = world.gateway
    r = requests.get(url, proxies={"http": f"http://user:{gw.password}@127.0.0.1:{gw.port}"}, timeout=5)
    assert r.status_code == 407
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=5)
    conn.set_tunnel("127.0.0.1", world.image_host.port,
                    headers={"Proxy-Authorization": auth_header("user-session-t1", gw.password)})
    conn.request("GET", path)
    assert conn.getresponse().read() == data
    conn.close()
    assert gw.counters.get("successes", "t1") == 1
