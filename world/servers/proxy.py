"""Forward HTTP proxies on 127.0.0.1: absolute-URI forwarding, CONNECT tunnels, Basic auth, health modes.

ProxyBase is the relay both ForwardProxy (here) and GatewayProxy (gateway.py) build on."""
from __future__ import annotations

import base64
import http.client
import itertools
import select
import socket
from urllib.parse import urlsplit

from world.servers.base import SOCKET_BUFFER, BaseServer, QuietHandler, roll

MODES = ("healthy", "dead", "flaky", "slow", "banned")

BOT_CHECK_PAGE = b"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Pardon Our Interruption</title></head><body><div id="content">
<h1>Pardon Our Interruption...</h1>
<p>As you were browsing, something about your browser made us think you were a bot.</p>
</div></body></html>"""

# Headers that belong to one hop and are never passed on (RFC 9110 7.6.1), plus the proxy's own.
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "transfer-encoding", "upgrade",
})
UPSTREAM_TIMEOUT = 60.0
TUNNEL_IDLE = 120.0


def parse_basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


class ProxyHandler(QuietHandler):
    def setup(self):
        super().setup()
        self.upstreams: dict[tuple[str, int], http.client.HTTPConnection] = {}

    def finish(self):
        for conn in self.upstreams.values():
            conn.close()
        super().finish()

    def do_CONNECT(self):
        self.owner._handle(self, tunnel=True)

    def _any(self):
        self.owner._handle(self, tunnel=False)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = _any


class ProxyBase(BaseServer):
    """Shared relay logic. Subclasses decide who may use it (`_authorise`) and how healthy it is."""

    handler_class = ProxyHandler

    def __init__(self, password: str, seed: int, host: str, port: int):
        super().__init__(host, port)
        self.password = password
        self.seed = seed
        self.delay = 0.5         # seconds added by 'slow'
        self.fail_rate = 0.3     # fraction failed by 'flaky'
        self.ban_style = "403"   # or 'botcheck': 200 with the "Pardon Our Interruption" page
        self._serial = itertools.count(1)

    # --- to override -------------------------------------------------------
    def _authorise(self, user: str, password: str) -> str | None:
        """The counter key for an allowed user (None when refused)."""
        raise NotImplementedError

    def _mode_for(self, key: str) -> str:
        raise NotImplementedError

    # --- the request path ------------------------------------------------------
    def _handle(self, h: ProxyHandler, tunnel: bool) -> None:
        creds = parse_basic(h.headers.get("Proxy-Authorization"))
        key = self._authorise(*creds) if creds else None
        self._count("requests", key)
        if key is None:
            self._count("failures", key)
            self._count("auth_failures", key)
            h.send_body(407, b"Proxy Authentication Required", "text/plain",
                        {"Proxy-Authenticate": 'Basic realm="soldsight-world"'})
            return
        mode = self._mode_for(key)
        if mode == "dead":
            self._count("failures", key)
            h.reset()
            return
        if mode == "banned":
            self._count("failures", key)
            self._count("bans", key)
            if self.ban_style == "botcheck" and not tunnel:
                h.send_body(200, BOT_CHECK_PAGE, "text/html; charset=utf-8")
            else:
                h.send_body(403, b"<html><body><h1>403 Forbidden</h1></body></html>", "text/html")
            return
        if mode == "flaky":
            n = next(self._serial)
            if roll(self.seed, key, n) < self.fail_rate:
                self._count("failures", key)
                if roll(self.seed, key, n, "how") < 0.5:
                    h.send_body(502, b"Bad Gateway", "text/plain")
                else:
                    h.reset()
                return
        if mode == "slow":
            self.stopping.wait(self.delay)
        if tunnel:
            # A tunnel counts as a success once established; it may stay open for a long time.
            self._tunnel(h, on_open=lambda: self._count("successes", key),
                         on_fail=lambda: self._count("failures", key))
        else:
            self._forward(h, record=lambda ok: self._count("successes" if ok else "failures", key))

    def _count(self, name: str, key: str | None) -> None:
        self.counters.add(name, key)

    # --- plain http: absolute-URI forwarding ----------------------------------------
    def _forward(self, h: ProxyHandler, record) -> None:
        """Relay one request; `record(ok)` is called before the client hears back, so counts are settled."""
        target = urlsplit(h.path)
        if target.scheme != "http" or not target.hostname:
            record(False)
            h.send_body(400, b"absolute http:// URI required (use CONNECT for https)", "text/plain")
            return
        where = (target.hostname, target.port or 80)
        path = (target.path or "/") + (f"?{target.query}" if target.query else "")
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else None
        headers = [(k, v) for k, v in h.headers.items() if k.lower() not in HOP_BY_HOP]
        try:
            resp = self._upstream_request(h, where, h.command, path, headers, body)
        except OSError:
            record(False)
            h.send_body(502, b"Bad Gateway: upstream unreachable", "text/plain")
            return
        record(True)
        h.send_response_only(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                h.send_header(k, v)
        length = resp.getheader("Content-Length")
        if length is None:
            data = resp.read()  # chunked or unknown: buffer it and give the client a length
            length = str(len(data))
            chunks = [data]
        else:
            chunks = None
        h.send_header("Content-Length", length)
        if h.close_connection:
            h.send_header("Connection", "close")
        h.end_headers()
        if h.command == "HEAD":
            return
        try:
            if chunks is not None:
                h.wfile.write(chunks[0])
            else:
                while chunk := resp.read(SOCKET_BUFFER // 4):
                    h.wfile.write(chunk)
                if resp.length:  # the upstream promised more than it sent
                    raise http.client.IncompleteRead(b"")
        except (OSError, http.client.HTTPException):
            # Pass the truncation on the way a real proxy does: the client sees a short body.
            h.close_connection = True
            h.upstreams.pop(where, None)
            return
        if resp.will_close:
            h.upstreams.pop(where, None)

    def _upstream_request(self, h, where, method, path, headers, body):
        for fresh in (False, True):
            conn = h.upstreams.get(where)
            if conn is None or fresh:
                if conn is not None:
                    conn.close()
                conn = http.client.HTTPConnection(*where, timeout=UPSTREAM_TIMEOUT)
                h.upstreams[where] = conn
            try:
                conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
                for k, v in headers:
                    conn.putheader(k, v)
                conn.endheaders(body)
                return conn.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()
                h.upstreams.pop(where, None)
                if fresh:
                    raise
            except OSError:
                conn.close()
                h.upstreams.pop(where, None)
                raise
        raise OSError("unreachable")

    # --- https: CONNECT tunnels ----------------------------------------------------------
    def _tunnel(self, h: ProxyHandler, on_open, on_fail) -> None:
        host, _, port = h.path.rpartition(":")
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
        except (OSError, ValueError):
            on_fail()
            h.send_body(502, b"Bad Gateway: cannot reach tunnel target", "text/plain")
            return
        h.close_connection = True
        on_open()
        h.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        pending = self._buffered(h)
        client = h.connection
        try:
            upstream.settimeout(None)
            if pending:
                upstream.sendall(pending)
            self._relay(client, upstream)
        finally:
            upstream.close()

    @staticmethod
    def _buffered(h: ProxyHandler) -> bytes:
        """Bytes the client sent right after CONNECT that already sit in the handler's read buffer."""
        sock = h.connection
        timeout = sock.gettimeout()
        sock.setblocking(False)
        try:
            pending = h.rfile.peek()
        except (OSError, ValueError):
            pending = b""
        finally:
            sock.settimeout(timeout)
        return h.rfile.read(len(pending)) if pending else b""

    def _relay(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        while not self.stopping.is_set():
            readable, _, _ = select.select(list(peers), [], [], TUNNEL_IDLE)
            if not readable:
                return
            for src in readable:
                try:
                    data = src.recv(SOCKET_BUFFER // 4)
                except OSError:
                    return
                if not data:
                    return
                try:
                    peers[src].sendall(data)
                except OSError:
                    return


class ForwardProxy(ProxyBase):
    """One forward proxy with one set of credentials and one health mode.

    `proxy_url` carries the credentials (http://user:pass@127.0.0.1:port); `url` does not.
    Modes: healthy, dead (the port refuses connections), flaky (a seeded share of requests get
    502 or a reset), slow (adds `delay` seconds), banned (403, or with ban_style='botcheck' a 200
    "Pardon Our Interruption" page).
    """

    def __init__(self, username: str = "user", password: str = "pass", mode: str = "healthy",
                 seed: int = 0, host: str = "127.0.0.1", port: int = 0, **mode_params):
        super().__init__(password, seed, host, port)
        self.username = username
        self.mode = "healthy"
        self._hold: socket.socket | None = None
        self._started = False
        self.set_mode(mode, **mode_params)

    @property
    def proxy_url(self) -> str:
        return f"http://{self.username}:{self.password}@{self.host}:{self.port}"

    @property
    def masked_url(self) -> str:
        return f"http://{self.username}:***@{self.host}:{self.port}"

    def start(self):
        self._started = True
        if self.mode == "dead":
            self._reserve_port()
        else:
            super().start()
        return self

    def stop(self) -> None:
        self._started = False
        self._release_port()
        super().stop()

    def set_mode(self, mode: str, delay: float | None = None, fail_rate: float | None = None,
                 ban_style: str | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown proxy mode {mode!r}; known: {', '.join(MODES)}")
        if delay is not None:
            self.delay = delay
        if fail_rate is not None:
            self.fail_rate = fail_rate
        if ban_style is not None:
            if ban_style not in ("403", "botcheck"):
                raise ValueError("ban_style is '403' or 'botcheck'")
            self.ban_style = ban_style
        was_dead, self.mode = self.mode == "dead", mode
        if not self._started:
            return
        if mode == "dead" and not was_dead:
            super().stop()
            self._reserve_port()
        elif was_dead and mode != "dead":
            self._release_port()
            super().start()

    def reset(self) -> None:
        """Healthy again, default knobs, zero counters."""
        self.delay, self.fail_rate, self.ban_style = 0.5, 0.3, "403"
        self._serial = itertools.count(1)  # so a test's flaky sequence does not depend on earlier tests
        self.set_mode("healthy")
        self.counters.reset()

    @property
    def requests(self) -> int:
        return self.counters.get("requests")

    @property
    def successes(self) -> int:
        return self.counters.get("successes")

    @property
    def failures(self) -> int:
        return self.counters.get("failures")

    def _reserve_port(self) -> None:
        # A bound socket that never listens: connecting to it is refused (RST), and nobody else
        # can take the port while the proxy is "dead".
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port or self._requested_port))
        self.port = sock.getsockname()[1]
        self._hold = sock

    def _release_port(self) -> None:
        if self._hold is not None:
            self._hold.close()
            self._hold = None

    def _authorise(self, user, password):
        return "proxy" if (user, password) == (self.username, self.password) else None

    def _mode_for(self, key):
        return self.mode
