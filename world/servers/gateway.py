"""A residential-style gateway proxy: one port, a session token in the username, one exit per session."""
from __future__ import annotations

import itertools
import threading

from world.servers.base import roll
from world.servers.proxy import MODES, ProxyBase


class GatewayProxy(ProxyBase):
    """A residential gateway: one port, user `user-session-<token>`, one exit per session.

    Each token maps deterministically to an exit (`exit_for`). An exit's health comes from
    `set_session(token, mode)` if set, else from the seeded rates given to `set_rates(...)`.
    A dead exit drops the connection (the gateway itself stays up).
    """

    USER_PREFIX = "user-session-"

    def __init__(self, password: str = "pass", seed: int = 0, exits: int = 10_000,
                 host: str = "127.0.0.1", port: int = 0):
        super().__init__(password, seed, host, port)
        self.exits = exits
        self._sessions: dict[str, str] = {}
        self._rates: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def proxy_template(self) -> str:
        """The gateway URL with a {session} placeholder (SOLDSIGHT_PROXY_GATEWAY)."""
        return f"http://{self.USER_PREFIX}{{session}}:{self.password}@{self.host}:{self.port}"

    def proxy_url_for(self, session: str) -> str:
        return self.proxy_template.format(session=session)

    def exit_for(self, session: str) -> int:
        return int(roll(self.seed, "exit", session) * self.exits)

    def set_session(self, session: str, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        with self._lock:
            self._sessions[session] = mode

    def set_rates(self, **rates: float) -> None:
        """Share of exits in each unhealthy mode, e.g. set_rates(dead=0.1, banned=0.2)."""
        unknown = set(rates) - set(MODES) - {"healthy"}
        if unknown or sum(rates.values()) > 1:
            raise ValueError(f"bad rates {rates}")
        with self._lock:
            self._rates = {m: r for m, r in rates.items() if m != "healthy"}

    def mode_for(self, session: str) -> str:
        with self._lock:
            if session in self._sessions:
                return self._sessions[session]
            rates = dict(self._rates)
        r, edge = roll(self.seed, "health", self.exit_for(session)), 0.0
        for mode in ("dead", "banned", "flaky", "slow"):
            edge += rates.get(mode, 0.0)
            if r < edge:
                return mode
        return "healthy"

    def reset(self) -> None:
        with self._lock:
            self._sessions.clear()
            self._rates.clear()
        self.delay, self.fail_rate, self.ban_style = 0.5, 0.3, "403"
        self._serial = itertools.count(1)
        self.counters.reset()

    def _authorise(self, user, password):
        if password != self.password or not user.startswith(self.USER_PREFIX):
            return None
        session = user[len(self.USER_PREFIX):]
        return session or None

    def _mode_for(self, key):
        return self.mode_for(key)
