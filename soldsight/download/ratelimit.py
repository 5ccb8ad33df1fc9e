"""Politeness per origin host: at most `rate` requests per second and `concurrency` in flight."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Iterator
from urllib.parse import urlsplit


class HostLimiter:
    """Paces requests to each host evenly (one every 1/rate s) and caps those in flight."""

    def __init__(self, rate: float, concurrency: int):
        self.interval = 0.0 if not rate or rate <= 0 else 1.0 / rate
        self.concurrency = max(1, int(concurrency))
        self._lock = threading.Lock()
        self._next_slot: dict[str, float] = {}
        self._gates: dict[str, threading.BoundedSemaphore] = {}

    def _gate(self, host: str) -> threading.BoundedSemaphore:
        with self._lock:
            gate = self._gates.get(host)
            if gate is None:
                gate = self._gates[host] = threading.BoundedSemaphore(self.concurrency)
            return gate

    def _wait_turn(self, host: str) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = start + self.interval
        if start > now:
            time.sleep(start - now)

    @contextmanager
    def slot(self, url: str) -> Iterator[None]:
        host = host_of(url)
        gate = self._gate(host)
        with gate:
            self._wait_turn(host)
            yield


def host_of(url: str) -> str:
    try:
        parts = urlsplit(url)
        return f"{parts.hostname or ''}:{parts.port or ''}"
    except ValueError:
        return ""
