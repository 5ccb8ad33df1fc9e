"""A small base for the local servers: a threaded HTTP server on 127.0.0.1, counters, seeded rolls."""
from __future__ import annotations

import hashlib
import socket
import socketserver
import ssl
import struct
import threading
from collections import defaultdict
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SOCKET_BUFFER = 1 << 20  # large buffers keep 50 KB photos to one or two syscalls


def roll(*parts) -> float:
    """A deterministic number in [0, 1) from any parts (seed, path, attempt...), thread-order free."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class Counters:
    """Thread-safe named tallies, each with per-key counts and a total."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._totals: dict[str, int] = defaultdict(int)

    def add(self, name: str, key: str | None = None, n: int = 1) -> int:
        """Count n more; returns the new count for the key (or the total when there is no key)."""
        with self._lock:
            self._totals[name] += n
            if key is None:
                return self._totals[name]
            self._counts[name][key] += n
            return self._counts[name][key]

    def get(self, name: str, key: str | None = None) -> int:
        """The total for `name`, or its count for one key; 0 when never counted."""
        with self._lock:
            if key is None:
                return self._totals.get(name, 0)
            return self._counts.get(name, {}).get(key, 0)

    def by_key(self, name: str) -> dict[str, int]:
        with self._lock:
            return dict(self._counts.get(name, {}))

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "totals": dict(self._totals),
                "by_key": {name: dict(keys) for name, keys in self._counts.items()},
            }

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._totals.clear()


def reset_socket(sock: socket.socket) -> None:
    """Close with a TCP RST (SO_LINGER 0), the way a crashed peer or a middlebox drops a connection."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address, handler, owner):
        self.owner = owner
        self.open_sockets: set[socket.socket] = set()
        self._sockets_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self):
        # HTTPServer.server_bind calls getfqdn(), a reverse lookup we do not want offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request, client_address):
        with self._sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def drop_open_connections(self) -> None:
        with self._sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass  # clients hanging up mid-response is normal traffic here, not an error to print


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, no Nagle, big send buffer, no per-request logging."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "soldsight-world/1.0"
    sys_version = ""

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            # In the handler's thread, not at accept: a client that never says hello stalls only itself.
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError):
                self.close_connection = True
                raise
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
        except OSError:
            pass

    @property
    def owner(self):
        return self.server.owner

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        pass

    def send_body(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def reset(self) -> None:
        """Drop the client connection with an RST and make the handler stop."""
        self.close_connection = True
        reset_socket(self.connection)


class BaseServer:
    """A real HTTP server on 127.0.0.1 in a daemon thread: start(), url, stop(), `with` use."""

    handler_class: type[QuietHandler] = QuietHandler

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tls: tuple[Path, Path] | None = None):
        """tls: (certificate, key) PEM files to serve HTTPS instead of HTTP."""
        self.host = host
        self._requested_port = port
        self.tls = tls
        self.port: int | None = None
        self.counters = Counters()
        self.stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def start(self):
        if self._httpd is not None:
            return self
        self.stopping.clear()
        port = self.port if self.port is not None else self._requested_port
        self._httpd = _HTTPServer((self.host, port), self.handler_class, self)
        self.port = self._httpd.server_address[1]
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True,
                                                     do_handshake_on_connect=False)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}:{self.port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self.stopping.set()  # wakes handlers sleeping in slow/stall faults
        httpd.shutdown()
        httpd.server_close()
        httpd.drop_open_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self.port else "not started"
        return f"<{type(self).__name__} {where}>"
