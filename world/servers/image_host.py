"""The local image CDN: eBay-shaped URLs (/images/g/<id>/s-l500.webp), real content types, fault plans."""
from __future__ import annotations

import threading
from pathlib import Path

from world.servers import payloads
from world.servers.base import BaseServer, QuietHandler
from world.servers.faults import FaultPlan

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".webp", ".png")


def image_path(image_id: str, size: int = 500, ext: str = "webp") -> str:
    """The eBay URL path of one image size: /images/g/<id>/s-l<size>.<ext>."""
    return f"/images/g/{image_id}/s-l{size}.{ext}"


def _stem(path: str) -> str:
    """'/images/g/ab/s-l500.webp' -> 'images/g/ab/s-l500': the extension asked for does not matter."""
    head, _, last = path.lstrip("/").rpartition("/")
    last = last.rsplit(".", 1)[0] if "." in last else last
    return f"{head}/{last}" if head else last


class ImageHandler(QuietHandler):
    def do_GET(self):
        self.owner._serve(self)

    def do_HEAD(self):
        self.owner._serve(self)


class ImageHost(BaseServer):
    """Serves files under `root` (root/images/g/<id>/s-l500.jpg ...) and images given with put().

    The extension in the request is ignored when finding the file; the Content-Type is the file's
    real type, sniffed from its bytes. An id with no s-l1600 file gives 404 for s-l1600, which is
    how the downloader's "ask for the larger size, fall back" path gets exercised.
    """

    handler_class = ImageHandler

    def __init__(self, root: Path | str | None = None, seed: int = 0, host: str = "127.0.0.1", port: int = 0,
                 tls: tuple[Path, Path] | None = None):
        super().__init__(host, port, tls)
        self.root = Path(root) if root is not None else None
        self.faults = FaultPlan(seed)
        self._images: dict[str, tuple[bytes, str]] = {}
        self._images_lock = threading.Lock()

    # --- content ----------------------------------------------------------
    def put(self, path: str, data: bytes, content_type: str | None = None) -> str:
        """Serve `data` at `path` (any extension); returns the full URL if started, else the path."""
        with self._images_lock:
            self._images[_stem(path)] = (data, content_type or payloads.sniff_content_type(data))
        return self.url + path if self.port else path

    def image_url(self, image_id: str, size: int = 500, ext: str = "webp") -> str:
        return self.url + image_path(image_id, size, ext)

    def forget_cache(self) -> None:
        """Drop cached files read from root (images given with put() are kept)."""
        with self._images_lock:
            self._images = {k: v for k, v in self._images.items() if not v[1].startswith("disk:")}

    def lookup(self, path: str) -> tuple[bytes, str] | None:
        stem = _stem(path)
        with self._images_lock:
            found = self._images.get(stem)
        if found is not None:
            data, ctype = found
            return data, ctype.removeprefix("disk:")
        if self.root is None or ".." in stem.split("/"):
            return None
        for ext in IMAGE_EXTENSIONS:
            file = self.root / (stem + ext)
            if file.is_file():
                data = file.read_bytes()
                with self._images_lock:
                    self._images[stem] = (data, "disk:" + payloads.sniff_content_type(data))
                return data, payloads.sniff_content_type(data)
        return None

    # --- test control -------------------------------------------------------
    def reset(self) -> None:
        """A clean slate for the next test: no faults, zero counters."""
        self.faults.reset()
        self.counters.reset()

    def requests_for(self, path: str) -> int:
        return self.counters.get("requests", path)

    def bytes_for(self, path: str) -> int:
        return self.counters.get("bytes", path)

    # --- serving --------------------------------------------------------------
    def _serve(self, h: ImageHandler) -> None:
        path = h.path.split("?", 1)[0]
        attempt = self.counters.add("requests", path)
        fault = self.faults.pick(path, attempt)
        if fault is not None:
            self.counters.add("faults", fault.kind)
            if self._inject(h, path, fault):
                return
        found = self.lookup(path)
        if found is None:
            self._reply(h, path, 404, payloads.ENDED_PAGE, "text/html; charset=utf-8")
            return
        self._reply(h, path, 200, *found)

    def _reply(self, h, path, status, body, ctype, headers=None):
        # Count first: a test reading counters right after its response must see this one.
        self.counters.add("status", str(status))
        if h.command != "HEAD":
            self.counters.add("bytes", path, len(body))
        h.send_body(status, body, ctype, {"Cache-Control": "max-age=31536000", **(headers or {})})

    def _inject(self, h: ImageHandler, path: str, fault) -> bool:
        """Carry out a fault; False means 'serve normally afterwards' (the slow fault)."""
        p, kind = fault.params, fault.kind
        if kind == "slow":
            self.stopping.wait(p["delay"])
            return False
        if kind == "reset":
            self.counters.add("status", "reset")
            h.reset()
        elif kind == "error":
            self._reply(h, path, p["status"], b"<html><body>Service Unavailable</body></html>", "text/html")
        elif kind == "rate_limit":
            self._reply(h, path, 429, b"Too Many Requests", "text/plain", {"Retry-After": p["retry_after"]})
        elif kind == "html":
            self._reply(h, path, 200, payloads.ENDED_PAGE, "text/html; charset=utf-8")
        elif kind == "not_found":
            self._reply(h, path, 404, payloads.ENDED_PAGE, "text/html; charset=utf-8")
        elif kind == "gone":
            self._reply(h, path, 410, b"Gone", "text/plain")
        elif kind == "bomb":
            body = payloads.bomb_jpeg() if p["format"] == "jpeg" else payloads.bomb_png()
            self._reply(h, path, 200, body, payloads.sniff_content_type(body))
        elif kind == "corrupt":
            self._reply(h, path, 200, payloads.corrupt_jpeg(), "image/jpeg")
        elif kind == "empty":
            self._reply(h, path, 200, b"", "image/jpeg")
        elif kind in ("wrong_type", "truncate", "stall"):
            found = self.lookup(path)
            if found is None:
                return False  # nothing to mangle: a plain 404
            body, real_type = found
            if kind == "wrong_type":
                self._reply(h, path, 200, body, p["content_type"])
            else:
                self._partial(h, path, body, real_type, p, stall=kind == "stall")
        return True

    def _partial(self, h, path, body, ctype, p, stall: bool) -> None:
        """Promise the whole body, send a part, then stall (stall) or hang up (truncate)."""
        cut = max(1, int(len(body) * p["fraction"]))
        h.close_connection = True
        self.counters.add("bytes", path, cut)
        self.counters.add("status", "stall" if stall else "truncate")
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[:cut])
        if stall:
            self.stopping.wait(p["stall"])
