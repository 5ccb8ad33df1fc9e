"""The retry/rotation loop around fetch_once, shared by image downloads and the scraper's page fetches."""
from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import requests
from requests.adapters import HTTPAdapter

from soldsight.download.ebay import larger_variant
from soldsight.download.fetch import PERMANENT, SUSPECT, TRANSIENT, FetchResult, fetch_once
from soldsight.download.pool import BAN, FAILURE, SUCCESS, AllProxiesDown, Cancelled, ProxyPool
from soldsight.download.proxies import direct, load_proxies
from soldsight.download.ratelimit import HostLimiter
from soldsight.download.validate import ImageInfo, Invalid, validate_image
from soldsight.settings import Settings

SUSPECT_LIMIT = 3   # "not an image" this many times, from this many different proxies (or all there are)


@dataclass
class Outcome:
    """How one URL went after all its attempts in this run."""

    url: str
    ok: bool
    attempts: int
    last: FetchResult
    permanent: bool = False
    stopped: bool = False           # the pool gave up (all proxies down): stop the run
    info: ImageInfo | None = None   # for images
    fetched_url: str | None = None  # the URL that finally answered (e.g. the s-l1600 variant)
    errors: list[str] = field(default_factory=list)   # error code of every failed attempt

    @property
    def error(self) -> str | None:
        return None if self.ok else self.last.error

    @property
    def detail(self) -> str | None:
        return None if self.ok else self.last.detail


@dataclass
class PageResult:
    """What the scraper gets from fetch_page(); `text` is None unless ok."""

    url: str
    ok: bool
    status: int | None
    text: str | None
    final_url: str | None
    error: str | None
    permanent: bool
    attempts: int
    proxy: str | None     # masked
    detail: str | None


Check = Callable[[FetchResult], "Invalid | object | None"]


class Fetcher:
    """Rotating, retrying HTTP client over a ProxyPool; thread-safe, one requests.Session per thread."""

    def __init__(
        self,
        pool: ProxyPool,
        *,
        timeout: float = 15.0,
        max_attempts: int = 6,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_bytes: int = 20_000_000,
        max_pixels: int = 40_000_000,
        limiter: HostLimiter | None = None,
        user_agent: str = "soldsight",
        prefer_large: bool = False,
        acquire_timeout: float | None = None,
        rng: random.Random | None = None,
        ca_bundle: Path | str | None = None,
    ):
        self.pool = pool
        self.timeout, self.max_attempts = timeout, max(1, max_attempts)
        self.backoff_base, self.backoff_max = backoff_base, backoff_max
        self.max_bytes, self.max_pixels = max_bytes, max_pixels
        self.limiter = limiter
        self.user_agent = user_agent
        self.prefer_large = prefer_large
        self.acquire_timeout = acquire_timeout
        self.ca_bundle = ca_bundle
        self._rng = rng or random.Random()
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self.stop_event = threading.Event()
        self.retries = 0        # attempts beyond the first, over all URLs

    @classmethod
    def from_settings(cls, settings: Settings, *, proxies_file: Path | None = None, use_proxy: bool = True,
                      gateway_slots: int | None = None, **overrides) -> "Fetcher":
        """A Fetcher configured from settings: SOLDSIGHT_PROXIES / SOLDSIGHT_PROXY_GATEWAY unless use_proxy=False."""
        proxies = []
        if use_proxy:
            proxies = load_proxies(proxies_file or settings.proxies, settings.proxy_gateway,
                                   gateway_slots_n=gateway_slots or settings.download_concurrency)
        pool = ProxyPool(proxies or [direct()], cooldown_base=settings.proxy_cooldown,
                         cooldown_max=max(settings.backoff_max, settings.proxy_cooldown))
        kwargs = dict(
            timeout=settings.http_timeout, max_attempts=settings.max_attempts, backoff_base=settings.backoff_base,
            backoff_max=settings.backoff_max, max_bytes=settings.max_image_bytes,
            max_pixels=settings.max_image_pixels,
            limiter=HostLimiter(settings.per_host_rate, settings.per_host_concurrency),
            user_agent=settings.user_agent, prefer_large=settings.prefer_large_images,
            ca_bundle=settings.ca_bundle,
        )
        kwargs.update(overrides)
        return cls(pool, **kwargs)

    # --- sessions ------------------------------------------------------------
    def session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is not None and self._local.adapter.proxy_manager.__len__() > 2 * len(self.pool) + 4:
            self._prune(self._local.adapter)
        if s is None:
            s = requests.Session()
            s.trust_env = False   # never pick up proxies or .netrc from the environment
            if self.ca_bundle:
                s.verify = str(self.ca_bundle)
            adapter = HTTPAdapter(pool_connections=max(8, len(self.pool) + 2), pool_maxsize=4, max_retries=0)
            s.mount("http://", adapter)
            s.mount("https://", adapter)
            s.headers["User-Agent"] = self.user_agent
            self._local.session, self._local.adapter = s, adapter
            with self._lock:
                self._sessions.append(s)
        return s

    def stop(self) -> None:
        """Ask every fetch in progress to return soon (after its current request)."""
        self.stop_event.set()
        self.pool.wake()

    def _prune(self, adapter: HTTPAdapter) -> None:
        """Close connection pools of gateway sessions that were rotated away (they would pile up)."""
        live = {p.url for p in self.pool.proxies}
        for url in [u for u in adapter.proxy_manager if u not in live]:
            adapter.proxy_manager.pop(url).clear()

    def close(self) -> None:
        self.stop()
        with self._lock:
            for s in self._sessions:
                s.close()
            self._sessions.clear()

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- the loop --------------------------------------------------------------
    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Delay before attempt+1: exponential with jitter, never less than Retry-After (capped)."""
        delay = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1))) * self._rng.uniform(0.5, 1.0)
        if retry_after:
            delay = max(delay, min(retry_after, self.backoff_max))
        return delay

    def fetch(self, url: str, *, check: Check | None = None, accept: str = "*/*",
              max_attempts: int | None = None) -> Outcome:
        """Fetch url with retries, each on a different proxy while there are others.

        `check(result)` may reject a 2xx body by returning an Invalid (e.g. not an image); anything
        else it returns is kept as Outcome.info. An Invalid with error "bot_check" bans the proxy
        (use kind TRANSIENT to retry elsewhere without ever giving up for good).
        """
        tried: set[str] = set()
        suspect_from: set[str] = set()
        suspects = 0
        errors: list[str] = []
        limit = max_attempts or self.max_attempts
        last = FetchResult(url, False, "no_attempt", TRANSIENT, "not attempted")
        for attempt in range(1, limit + 1):
            if self.stop_event.is_set():
                return Outcome(url, False, attempt - 1, FetchResult(url, False, "stopped", TRANSIENT, "run stopped"),
                               stopped=True, errors=errors)
            try:
                proxy = self.pool.acquire(exclude=tried, timeout=self.acquire_timeout, cancel=self.stop_event)
            except Cancelled:
                return Outcome(url, False, attempt - 1, last if attempt > 1 else
                               FetchResult(url, False, "stopped", TRANSIENT, "run stopped"), stopped=True,
                               errors=errors)
            except AllProxiesDown as exc:
                last = FetchResult(url, False, "no_proxy", TRANSIENT, str(exc))
                return Outcome(url, False, attempt - 1, last, stopped=True, errors=errors + ["no_proxy"])
            if attempt > 1:
                with self._lock:
                    self.retries += 1
            result = fetch_once(self.session(), url, proxy, timeout=self.timeout, max_bytes=self.max_bytes,
                                headers={"Accept": accept}, limiter=self.limiter)
            info = None
            if result.ok and check is not None:
                info = check(result)
                if isinstance(info, Invalid):
                    # A wall the caller recognised bans the proxy; a proxy that hands out garbage is
                    # suspect too; a bomb is the origin's doing.
                    health = BAN if info.error == "bot_check" else FAILURE if info.kind == SUSPECT else SUCCESS
                    result = FetchResult(url, False, info.error, info.kind, info.detail, status=result.status,
                                         content_type=result.content_type, final_url=result.final_url,
                                         elapsed=result.elapsed, proxy=result.proxy, health=health)
            if result.health is None:
                self.pool.release(proxy)
            else:
                self.pool.report(proxy, result.health, latency=result.elapsed if result.ok else None,
                                 retry_after=result.retry_after, error=result.error)
            tried.add(proxy.key)
            last = result
            if result.ok:
                return Outcome(url, True, attempt, result, info=info, fetched_url=result.final_url or url,
                               errors=errors)
            errors.append(result.error or "error")
            if result.kind == PERMANENT:
                return Outcome(url, False, attempt, result, permanent=True, errors=errors)
            if result.kind == SUSPECT:
                suspects += 1
                suspect_from.add(proxy.key)
                if suspects >= SUSPECT_LIMIT and len(suspect_from) >= min(SUSPECT_LIMIT, len(self.pool)):
                    return Outcome(url, False, attempt, result, permanent=True, errors=errors)
            if attempt < limit and self.stop_event.wait(self.backoff(attempt, result.retry_after)):
                return Outcome(url, False, attempt, result, stopped=True, errors=errors)
        return Outcome(url, False, limit, last, errors=errors)

    # --- what callers use ------------------------------------------------------
    def check_image(self, result: FetchResult) -> ImageInfo | Invalid:
        return validate_image(result.body or b"", result.content_type, max_bytes=self.max_bytes,
                              max_pixels=self.max_pixels)

    def fetch_image(self, url: str) -> Outcome:
        """A validated image (Outcome.last.body, Outcome.info), trying the eBay s-l1600 variant first if asked."""
        if self.prefer_large:
            bigger = larger_variant(url)
            if bigger:
                first = self.fetch(bigger, check=self.check_image, accept="image/*")
                if first.ok or first.stopped:
                    return first
                # The large size is missing or broken here: fall back to the URL the listing gave.
                second = self.fetch(url, check=self.check_image, accept="image/*")
                second.attempts += first.attempts
                second.errors = first.errors + second.errors
                return second
        return self.fetch(url, check=self.check_image, accept="image/*")

    def fetch_page(self, url: str, *, max_attempts: int | None = None) -> PageResult:
        """An HTML page through the pool. Bot-check pages ban the proxy and are fetched again elsewhere;
        they are never returned as content. Never raises."""
        out = self.fetch(url, accept="text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", max_attempts=max_attempts)
        r = out.last
        text = _decode(r.body or b"", r.content_type) if out.ok else None
        return PageResult(url=url, ok=out.ok, status=r.status, text=text, final_url=r.final_url,
                          error=out.error, permanent=out.permanent, attempts=out.attempts, proxy=r.proxy,
                          detail=out.detail)


def _decode(body: bytes, content_type: str | None) -> str:
    charset = "utf-8"
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip("\"' ")
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")
