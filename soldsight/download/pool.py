"""A proxy pool that rotates over healthy proxies and cools failing or banned ones down."""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

from soldsight.download.proxies import Proxy

SUCCESS, FAILURE, BAN = "success", "failure", "ban"
ORIGIN = "origin"   # the proxy worked but the origin answered with an error (500, 503): not the proxy's fault


class AllProxiesDown(RuntimeError):
    """Every proxy kept failing through its longest cool-down; the run should stop, not spin."""


class Cancelled(RuntimeError):
    """acquire() gave up because the caller's cancel event was set (the run is stopping)."""


@dataclass
class Health:
    successes: int = 0
    failures: int = 0
    bans: int = 0
    origin_errors: int = 0
    consecutive_failures: int = 0
    latency_ewma: float | None = None   # seconds, successful requests only
    level: int = 0                      # cool-downs in a row without a success in between
    cooldown_until: float = 0.0         # monotonic time
    cooldowns: int = 0
    in_flight: int = 0
    probing: bool = False               # back from a cool-down: one request at a time until it succeeds
    last_error: str | None = None

    def state(self, now: float) -> str:
        if self.cooldown_until > now:
            return "cooling"
        return "probing" if self.probing or self.level > 0 else "healthy"   # level > 0: a probe is due


class ProxyPool:
    """Hands out proxies round-robin over the healthy ones; thread-safe.

    A proxy cools down after `max_failures` consecutive failures, or at once on a ban, for
    min(cooldown_max, cooldown_base * 2**level) seconds with jitter (at least any Retry-After).
    After its cool-down it is probed with a single request: success makes it healthy again,
    failure sends it back with a longer cool-down. When none is usable, acquire() waits for the
    earliest return; when every proxy has reached `dead_level` cool-downs in a row, it raises
    AllProxiesDown instead of waiting for ever.
    """

    def __init__(
        self,
        proxies: list[Proxy],
        *,
        cooldown_base: float = 5.0,
        cooldown_max: float = 300.0,
        max_failures: int = 3,
        dead_level: int = 6,
        ewma_alpha: float = 0.3,
        rng: random.Random | None = None,
    ):
        if not proxies:
            raise ValueError("a proxy pool needs at least one proxy (use proxies.direct() for none)")
        self.proxies = list(proxies)
        self.health = {p.key: Health() for p in self.proxies}
        if len(self.health) != len(self.proxies):
            raise ValueError("two proxies share a key")
        self.cooldown_base, self.cooldown_max = cooldown_base, cooldown_max
        self.max_failures, self.dead_level, self.alpha = max_failures, dead_level, ewma_alpha
        self._rng = rng or random.Random()
        self._cond = threading.Condition()
        self._next = 0
        self.waits = 0          # times a caller had to wait for a cool-down to end
        self.waited = 0.0       # seconds spent waiting

    def __len__(self) -> int:
        return len(self.proxies)

    @property
    def is_direct(self) -> bool:
        return len(self.proxies) == 1 and self.proxies[0].url is None and not self.proxies[0].is_gateway

    def acquire(self, exclude: set[str] | frozenset = frozenset(), timeout: float | None = None,
                cancel: threading.Event | None = None) -> Proxy:
        """A usable proxy, preferring ones not in `exclude` (those already tried for this URL).

        Blocks until one is usable. Raises AllProxiesDown when all are dead, or when none comes
        back within `timeout` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            waited_since = None
            while True:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("the run is stopping")
                now = time.monotonic()
                usable = [p for p in self.proxies if self._usable(self.health[p.key], now)]
                if usable:
                    fresh = [p for p in usable if p.key not in exclude] or usable
                    proxy = self._pick(fresh)
                    h = self.health[proxy.key]
                    h.in_flight += 1
                    if waited_since is not None:
                        self.waited += now - waited_since
                    return proxy
                if all(h.level >= self.dead_level and h.cooldown_until > now and h.in_flight == 0
                       for h in self.health.values()):
                    raise AllProxiesDown(self._down_message(now))
                if deadline is not None and now >= deadline:
                    raise AllProxiesDown(f"no proxy became usable within {timeout:.0f}s; " + self._down_message(now))
                if waited_since is None:
                    waited_since = now
                    self.waits += 1
                earliest = min((h.cooldown_until for h in self.health.values() if h.cooldown_until > now),
                               default=now + 1.0)
                wake = earliest if deadline is None else min(earliest, deadline)
                # A report() from another thread notifies us sooner (a probe finished).
                self._cond.wait(max(0.001, wake - now))

    def _usable(self, h: Health, now: float) -> bool:
        if h.cooldown_until > now:
            return False
        if h.level > 0 and not h.probing:
            h.probing = True   # its cool-down just ended: allow one probe
        return not (h.probing and h.in_flight > 0)

    def _pick(self, candidates: list[Proxy]) -> Proxy:
        # Round-robin, but never pile onto a proxy that already has more requests in flight.
        least = min(self.health[p.key].in_flight for p in candidates)
        ring = [p for p in candidates if self.health[p.key].in_flight == least]
        order = {p.key: i for i, p in enumerate(self.proxies)}
        ring.sort(key=lambda p: (order[p.key] - self._next) % len(self.proxies))
        chosen = ring[0]
        self._next = (order[chosen.key] + 1) % len(self.proxies)
        return chosen

    def report(self, proxy: Proxy, outcome: str, *, latency: float | None = None,
               retry_after: float | None = None, error: str | None = None) -> None:
        """Record how a request through `proxy` went: SUCCESS, ORIGIN (origin error), FAILURE or BAN."""
        with self._cond:
            h = self.health[proxy.key]
            h.in_flight = max(0, h.in_flight - 1)
            now = time.monotonic()
            if outcome in (SUCCESS, ORIGIN):
                if outcome == SUCCESS:
                    h.successes += 1
                else:
                    h.origin_errors += 1
                h.consecutive_failures = 0
                h.level = 0
                h.probing = False
                if latency is not None and outcome == SUCCESS:
                    h.latency_ewma = latency if h.latency_ewma is None else (
                        self.alpha * latency + (1 - self.alpha) * h.latency_ewma)
            else:
                h.last_error = error
                h.consecutive_failures += 1
                if outcome == BAN:
                    h.bans += 1
                else:
                    h.failures += 1
                if proxy.is_gateway:
                    # A bad gateway exit is left behind by taking a new session at once. Only when
                    # fresh sessions keep failing is the gateway itself down: then it cools.
                    proxy.rotate()
                    if outcome == BAN and retry_after:
                        self._cool(h, now, retry_after)
                    elif outcome != BAN and (h.probing or h.consecutive_failures >= self.max_failures):
                        self._cool(h, now, retry_after)
                elif outcome == BAN and self.is_direct and retry_after is not None:
                    # No other route: the origin said when to come back, so come back then.
                    self._cool(h, now, retry_after, exact=True)
                elif outcome == BAN or h.probing or h.consecutive_failures >= self.max_failures:
                    self._cool(h, now, retry_after)
            self._cond.notify_all()

    def _cool(self, h: Health, now: float, retry_after: float | None, exact: bool = False) -> None:
        span = min(self.cooldown_max, self.cooldown_base * (2 ** h.level)) * self._rng.uniform(0.75, 1.25)
        span = retry_after if exact else max(span, retry_after or 0.0)
        h.cooldown_until = max(h.cooldown_until, now + span)
        h.level += 1
        h.cooldowns += 1
        h.probing = False

    def wake(self) -> None:
        """Wake every waiting acquire() so it can notice a cancel event."""
        with self._cond:
            self._cond.notify_all()

    def release(self, proxy: Proxy) -> None:
        """Give a proxy back without judging it (the attempt never reached the network)."""
        with self._cond:
            h = self.health[proxy.key]
            h.in_flight = max(0, h.in_flight - 1)
            self._cond.notify_all()

    def _down_message(self, now: float) -> str:
        earliest = min(h.cooldown_until for h in self.health.values())
        errors = sorted({h.last_error for h in self.health.values() if h.last_error})
        return (f"all {len(self.proxies)} proxies are down (failed or banned through repeated cool-downs); "
                f"the earliest is back in {max(0.0, earliest - now):.1f}s; last errors: {', '.join(errors) or 'none'}")

    def snapshot(self) -> list[dict]:
        """Per-proxy figures with masked labels, for the run summary."""
        now = time.monotonic()
        with self._cond:
            rows = []
            for p in self.proxies:
                h = self.health[p.key]
                rows.append({
                    "proxy": p.key, "state": h.state(now), "successes": h.successes, "failures": h.failures,
                    "bans": h.bans, "origin_errors": h.origin_errors, "consecutive_failures": h.consecutive_failures,
                    "latency_ms": None if h.latency_ewma is None else round(h.latency_ewma * 1000, 1),
                    "cooldowns": h.cooldowns, "rotations": p.rotations, "last_error": h.last_error,
                })
            return rows
