"""Masks proxy credentials as `user:***` wherever text leaves the process: logs, errors, rows, output."""
from __future__ import annotations

import base64
import logging
import re
import threading
from urllib.parse import quote, unquote, urlsplit, urlunsplit

MASK = "***"

# scheme://user:password@  (the password stops at the last '@' before the host, never crosses whitespace or quotes)
_USERINFO = re.compile(r"(?P<pre>[A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@'\"<>]*):(?P<pw>[^\s/'\"<>]*)@")

_lock = threading.Lock()
_known: set[str] = set()


def register_secret(secret: str | None) -> None:
    """Remember a password so that redact() removes it even outside a URL (and its encoded forms)."""
    if not secret or secret == MASK or len(secret) < 3:
        return
    with _lock:
        _known.update({secret, quote(secret, safe=""), unquote(secret)})


def register_proxy_url(url: str) -> None:
    """Register the password of a proxy URL and the Basic credentials requests will derive from it."""
    parts = urlsplit(url)
    if parts.password:
        register_secret(parts.password)
        userinfo = f"{unquote(parts.username or '')}:{unquote(parts.password)}"
        register_secret(base64.b64encode(userinfo.encode()).decode())


def mask_url(url: str | None) -> str | None:
    """http://user:pass@host:port -> http://user:***@host:port; URLs without a password are unchanged."""
    if url is None:
        return None
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return redact(url)
    if not password:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.netloc.rpartition("@")[0].partition(":")[0]
    return urlunsplit((parts.scheme, f"{user}:{MASK}@{host}", parts.path, parts.query, parts.fragment))


def redact(text: object) -> str:
    """Any text with every URL password and every registered secret replaced by ***."""
    out = _USERINFO.sub(lambda m: f"{m.group('pre')}:{MASK}@", str(text))
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in out:
            out = out.replace(secret, MASK)
    return out


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message, so no handler can write a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
