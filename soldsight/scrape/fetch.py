"""Fetches marketplace pages through the download helper's proxy pool, politely; errors come back as values."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from soldsight.scrape.blocks import block_reason
from soldsight.settings import Settings

HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"


@dataclass
class Page:
    """One page after all its attempts: `text` is set only when ok (and never a bot-check page)."""
    url: str
    ok: bool
    text: str | None
    status: int | None = None
    error: str | None = None      # short code: bot_check, http_503, timeout, no_proxy, ...
    detail: str | None = None     # human message, proxy secrets already removed
    permanent: bool = False       # 404/410: do not try again
    stopped: bool = False         # the pool gave up (every proxy down): stop the run
    attempts: int = 0
    proxy: str | None = None      # masked label


class PageSource(Protocol):
    def get(self, url: str) -> Page: ...

    def close(self) -> None: ...


class PoolPageSource:
    """Pages through soldsight.download's Fetcher: rotation, per-proxy health, retries with backoff.

    The Fetcher bans a proxy that got "Pardon Our Interruption" and refetches elsewhere. Captcha
    walls it does not know are caught here by `block_reason` and returned as an Invalid 'bot_check',
    which bans that proxy too; kind TRANSIENT, so a wall is never taken for a permanent failure.
    """

    def __init__(self, fetcher):
        self.fetcher = fetcher

    @classmethod
    def from_settings(cls, settings: Settings, *, use_proxy: bool = True, **overrides) -> "PoolPageSource":
        from soldsight.download.client import Fetcher
        from soldsight.download.ratelimit import HostLimiter

        # The marketplace gets its own, much slower, limit than the image CDN, one request at a time.
        overrides.setdefault("limiter", HostLimiter(settings.scrape_rate, 1))
        overrides.setdefault("prefer_large", False)
        return cls(Fetcher.from_settings(settings, use_proxy=use_proxy, **overrides))

    def _check(self, result):
        from soldsight.download.fetch import TRANSIENT
        from soldsight.download.validate import Invalid

        text = (result.body or b"").decode("utf-8", errors="replace")
        reason = block_reason(text)
        if reason:
            return Invalid("bot_check", TRANSIENT, f"bot-check page ({reason})")
        return text

    def get(self, url: str) -> Page:
        out = self.fetcher.fetch(url, check=self._check, accept=HTML_ACCEPT)
        r = out.last
        return Page(url=url, ok=out.ok, text=out.info if out.ok else None, status=r.status,
                    error=out.error, detail=out.detail, permanent=out.permanent, stopped=out.stopped,
                    attempts=out.attempts, proxy=r.proxy)

    @property
    def retries(self) -> int:
        return self.fetcher.retries

    def close(self) -> None:
        self.fetcher.close()


def page_source(settings: Settings, *, use_proxy: bool = True, **overrides) -> PageSource:
    return PoolPageSource.from_settings(settings, use_proxy=use_proxy, **overrides)
