"""One HTTP attempt through one proxy, returning a FetchResult with a classified error; never raises."""
from __future__ import annotations

import email.utils
import re
import time
from dataclasses import dataclass, field

import requests

from soldsight.download.pool import BAN, FAILURE, ORIGIN, SUCCESS
from soldsight.download.proxies import Proxy
from soldsight.download.ratelimit import HostLimiter
from soldsight.secrets import redact

# How an error should be treated by the retry loop.
TRANSIENT = "transient"   # retry, preferably elsewhere; a run that runs out of tries leaves it for the next run
PERMANENT = "permanent"   # do not retry (404, 410, too large, a bomb, a bad URL)
SUSPECT = "suspect"       # looks permanent (not an image), but only after a few tries from different proxies

BOT_CHECK_MARKERS = (b"pardon our interruption",)
_SNIFF = 65536
_CHUNK = 1 << 17


@dataclass
class FetchResult:
    url: str
    ok: bool
    error: str | None = None        # short code: timeout, connection, proxy, http_503, truncated, bot_check, ...
    kind: str | None = None         # TRANSIENT | PERMANENT | SUSPECT when not ok
    detail: str | None = None       # human message, secrets already removed
    status: int | None = None
    body: bytes | None = field(default=None, repr=False)
    content_type: str | None = None
    final_url: str | None = None
    retry_after: float | None = None
    elapsed: float = 0.0
    proxy: str | None = None        # masked label of the proxy used
    health: str | None = SUCCESS    # what this attempt says about the proxy: SUCCESS, FAILURE, BAN, None


_HEADINGS = re.compile(rb"<(title|h1)[^>]*>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL)


def is_bot_check(body: bytes | None) -> bool:
    """A bot wall names itself in the page title or main heading.

    Only those are read: a results page may list a record called "Pardon Our Interruption".
    """
    head = (body or b"")[:_SNIFF]
    return any(
        marker in b" ".join(text.lower().split()) for _, text in _HEADINGS.findall(head) for marker in BOT_CHECK_MARKERS
    )


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def classify_status(status: int) -> tuple[str, str, str]:
    """(error code, kind, proxy health) for a non-2xx HTTP status."""
    if status in (403, 429):
        return f"http_{status}", TRANSIENT, BAN
    if status == 407:
        return "proxy_auth", TRANSIENT, FAILURE
    if status in (404, 410):
        return f"http_{status}", PERMANENT, SUCCESS
    if status in (408, 425):
        return f"http_{status}", TRANSIENT, FAILURE
    if status in (502, 504):   # gateway errors: usually the proxy itself, or its way to the origin
        return f"http_{status}", TRANSIENT, FAILURE
    if status >= 500:          # the origin's own trouble, carried faithfully by the proxy
        return f"http_{status}", TRANSIENT, ORIGIN
    return f"http_{status}", PERMANENT, SUCCESS


def fetch_once(
    session: requests.Session,
    url: str,
    proxy: Proxy,
    *,
    timeout: float = 15.0,
    max_bytes: int = 20_000_000,
    headers: dict[str, str] | None = None,
    limiter: HostLimiter | None = None,
) -> FetchResult:
    """GET url once through proxy; the whole body is read (up to max_bytes) and checked for a bot wall."""
    label = proxy.label
    if not url.lower().startswith(("http://", "https://")):
        return FetchResult(url, False, "invalid_url", PERMANENT, f"not an http(s) URL: {redact(url)[:200]}",
                           proxy=label, health=None)
    start = time.monotonic()
    response = None
    try:
        if limiter is None:
            response, body = _get(session, url, proxy, timeout, max_bytes, headers)
        else:
            with limiter.slot(url):
                response, body = _get(session, url, proxy, timeout, max_bytes, headers)
    except _TooLarge as exc:
        return FetchResult(url, False, "too_large", PERMANENT, str(exc), status=exc.status, proxy=label,
                           elapsed=time.monotonic() - start, health=SUCCESS)
    except requests.RequestException as exc:
        code, kind, health = _classify_exception(exc, proxy)
        return FetchResult(url, False, code, kind, _describe(exc), proxy=label,
                           elapsed=time.monotonic() - start, health=health)
    except Exception as exc:  # a library bug must still become a row, not a crash
        return FetchResult(url, False, "connection", TRANSIENT, _describe(exc), proxy=label,
                           elapsed=time.monotonic() - start, health=FAILURE)
    elapsed = time.monotonic() - start
    status = response.status_code
    ctype = response.headers.get("Content-Type")
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    common = dict(status=status, content_type=ctype, final_url=response.url, retry_after=retry_after,
                  elapsed=elapsed, proxy=label)
    if status < 200 or status >= 300:
        code, kind, health = classify_status(status)
        if is_bot_check(body):
            code, kind, health = "bot_check", TRANSIENT, BAN
        return FetchResult(url, False, code, kind, f"HTTP {status} {response.reason or ''}".strip(),
                           health=health, **common)
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) != len(body) and not response.headers.get("Content-Encoding"):
        return FetchResult(url, False, "truncated", TRANSIENT, f"got {len(body)} of {declared} bytes",
                           health=FAILURE, **common)
    if is_bot_check(body):
        return FetchResult(url, False, "bot_check", TRANSIENT, "bot-check page (Pardon Our Interruption)",
                           health=BAN, **common)
    return FetchResult(url, True, body=body, health=SUCCESS, **common)


class _TooLarge(Exception):
    def __init__(self, message: str, status: int | None):
        super().__init__(message)
        self.status = status


def _get(session, url, proxy, timeout, max_bytes, headers):
    response = session.get(url, proxies=proxy.requests_proxies(), timeout=(timeout, timeout), stream=True,
                           headers=headers, allow_redirects=True)
    try:
        declared = response.headers.get("Content-Length")
        if 200 <= response.status_code < 300 and declared and declared.isdigit() and int(declared) > max_bytes:
            raise _TooLarge(f"Content-Length {declared} exceeds the {max_bytes}-byte limit", response.status_code)
        chunks, size = [], 0
        for chunk in response.iter_content(_CHUNK):
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise _TooLarge(f"body exceeds the {max_bytes}-byte limit", response.status_code)
        return response, b"".join(chunks)
    finally:
        response.close()


def _classify_exception(exc: requests.RequestException, proxy: Proxy) -> tuple[str, str, str | None]:
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                        requests.exceptions.InvalidSchema)):
        return "invalid_url", PERMANENT, None
    if isinstance(exc, requests.exceptions.ProxyError):
        return "proxy", TRANSIENT, FAILURE
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return "truncated", TRANSIENT, FAILURE
    if isinstance(exc, requests.exceptions.Timeout):
        return "timeout", TRANSIENT, FAILURE
    if isinstance(exc, requests.exceptions.SSLError):
        # An untrusted certificate may be one exit tampering with traffic: that proxy is blamed and
        # another one tried; if every route fails the same way, the reason says TLS (see SOLDSIGHT_CA_BUNDLE).
        return "tls", TRANSIENT, FAILURE
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        if "timed out" in text.lower():   # requests wraps a read timeout mid-body as ConnectionError
            return "timeout", TRANSIENT, FAILURE
        if "IncompleteRead" in text or "Connection broken" in text:
            return "truncated", TRANSIENT, FAILURE
        return ("proxy" if proxy.url is not None and "proxy" in text.lower() else "connection"), TRANSIENT, FAILURE
    return "connection", TRANSIENT, FAILURE


def _describe(exc: BaseException) -> str:
    """A short, redacted message: requests' messages can hold the proxy URL with its password."""
    text = f"{type(exc).__name__}: {exc}"
    return redact(text)[:300]
