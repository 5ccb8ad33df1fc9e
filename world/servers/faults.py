"""Fault plans for the image host: per exact path (optionally N times, then healthy) or at a seeded rate."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from world.servers.base import roll

# Every fault the image host can inject, with its default parameters.
FAULT_KINDS: dict[str, dict] = {
    "error": {"status": 503},             # 5xx with a small HTML body
    "rate_limit": {"retry_after": 2},     # 429 with Retry-After (seconds)
    "slow": {"delay": 1.0},               # wait `delay` s, then serve the image normally
    "stall": {"stall": 30.0, "fraction": 0.25},  # headers + part of the body, then silence
    "reset": {},                          # TCP RST before any response
    "truncate": {"fraction": 0.5},        # full Content-Length, part of the body, then close
    "html": {},                           # 200 text/html (a "this listing has ended" page)
    "not_found": {},                      # permanent 404
    "gone": {},                           # permanent 410
    "bomb": {"format": "png"},            # a small file declaring huge dimensions (png or jpeg)
    "corrupt": {},                        # JPEG magic and headers, garbage scan data, no EOI
    "empty": {},                          # 200 image/jpeg with a zero-byte body
    "wrong_type": {"content_type": "text/plain"},  # the real image under the wrong Content-Type
}


@dataclass
class Fault:
    kind: str
    params: dict = field(default_factory=dict)
    times: int | None = None  # None: every time; N: the first N requests, then healthy


@dataclass
class _Rate:
    kind: str
    rate: float
    params: dict
    per_attempt: bool  # False: the same paths fail every time (a permanent fault)


def make_fault(kind: str, times: int | None = None, **params) -> Fault:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
    return Fault(kind, {**FAULT_KINDS[kind], **params}, times)


class FaultPlan:
    """What goes wrong, and where. Tests set it and `reset()` it; the host asks `pick(path, attempt)`."""

    def __init__(self, seed: int = 0):
        self.seed = seed
        self._lock = threading.Lock()
        self._by_path: dict[str, Fault] = {}
        self._rates: list[_Rate] = []

    def add(self, path: str, kind: str, times: int | None = None, **params) -> None:
        """Make requests for this exact path fail with `kind` (the first `times` requests, or always)."""
        fault = make_fault(kind, times, **params)
        with self._lock:
            self._by_path[path] = fault

    def fail_then_succeed(self, path: str, n: int, kind: str = "error", **params) -> None:
        self.add(path, kind, times=n, **params)

    def set_rate(self, kind: str, rate: float, per_attempt: bool = True, **params) -> None:
        """Fail a seeded fraction of requests with `kind`. per_attempt=False keeps a path's fate fixed."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")
        fault = make_fault(kind, **params)
        with self._lock:
            self._rates = [r for r in self._rates if r.kind != kind]
            if rate > 0:
                self._rates.append(_Rate(kind, rate, fault.params, per_attempt))

    def reset(self, seed: int | None = None) -> None:
        with self._lock:
            self._by_path.clear()
            self._rates.clear()
            if seed is not None:
                self.seed = seed

    def pick(self, path: str, attempt: int) -> Fault | None:
        """The fault for this request (`attempt` counts from 1 per path), or None to serve normally."""
        with self._lock:
            fault = self._by_path.get(path)
            if fault is not None:
                if fault.times is None:
                    return fault
                if fault.times > 0:
                    fault.times -= 1
                    return fault
                return None  # the planned failures are used up: healthy from now on
            rates = list(self._rates)
        # Rate faults of one kind of fate share one roll, so their rates add up instead of shadowing.
        rolls = {True: roll(self.seed, path, attempt), False: roll(self.seed, path, "fixed")}
        edges = {True: 0.0, False: 0.0}
        for rate in rates:
            edges[rate.per_attempt] += rate.rate
            if rolls[rate.per_attempt] < edges[rate.per_attempt]:
                return Fault(rate.kind, dict(rate.params))
        return None

    def describe(self) -> dict:
        with self._lock:
            return {
                "seed": self.seed,
                "paths": {p: {"kind": f.kind, "times": f.times, **f.params} for p, f in self._by_path.items()},
                "rates": [{"kind": r.kind, "rate": r.rate, "per_attempt": r.per_attempt, **r.params}
                          for r in self._rates],
            }
