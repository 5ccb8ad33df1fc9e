"""Reads proxy lists and residential gateway templates into Proxy objects whose labels are masked."""
from __future__ import annotations

import secrets as _random
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from soldsight.secrets import mask_url, redact, register_proxy_url

SESSION = "{session}"
SCHEMES = ("http", "https", "socks5", "socks5h")


class ProxyConfigError(ValueError):
    """A proxy line or gateway template that cannot be used (the message is already masked)."""


@dataclass(eq=False)
class Proxy:
    """One way out: a fixed proxy, one session slot of a gateway, or a direct connection (url None).

    `url` holds the credentials and must never be printed; `label` is the masked form for people.
    """

    key: str                      # stable, masked identity in the pool and the per-proxy table
    url: str | None               # what requests gets in `proxies=`; None means direct
    template: str | None = None   # gateway URL with {session}; rotate() fills in a new token
    session: str | None = None
    rotations: int = field(default=0)

    @property
    def label(self) -> str:
        return "direct" if self.url is None else mask_url(self.url)

    @property
    def is_gateway(self) -> bool:
        return self.template is not None

    def rotate(self) -> None:
        """Take a new gateway session token, which the gateway maps to a different exit."""
        if self.template is None:
            return
        self.session = _random.token_hex(6)
        self.url = self.template.replace(SESSION, self.session)
        self.rotations += 1

    def __repr__(self) -> str:   # the dataclass default would print the password
        return f"Proxy({self.key!r}, session={self.session!r})"

    def requests_proxies(self) -> dict[str, str] | None:
        return None if self.url is None else {"http": self.url, "https": self.url}


def _check(url: str, where: str) -> str:
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url.replace(SESSION, "x"))
        port = parts.port
    except ValueError as exc:
        raise ProxyConfigError(f"{where}: not a proxy URL: {redact(url)} ({redact(exc)})") from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ProxyConfigError(f"{where}: not a proxy URL: {mask_url(url)}")
    if port is None:
        raise ProxyConfigError(f"{where}: proxy URL has no port: {mask_url(url)}")
    register_proxy_url(url.replace(SESSION, "x"))
    return url


def parse_proxy_lines(text: str, where: str = "proxies") -> list[str]:
    """One proxy URL per line; '#' starts a comment; blank lines are ignored; duplicates are dropped."""
    urls: list[str] = []
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if line:
            url = _check(line, f"{where} line {n}")
            if url not in urls:
                urls.append(url)
    return urls


def gateway_slots(template: str, slots: int) -> list[Proxy]:
    """`slots` session slots on one gateway, each with its own token (and so its own exit)."""
    template = _check(template, "gateway")
    if SESSION not in template:
        raise ProxyConfigError(f"gateway URL has no {SESSION} placeholder: {mask_url(template)}")
    masked = mask_url(template.replace(SESSION, "SESSION")).replace("SESSION", "*")
    out = []
    for i in range(max(1, slots)):
        proxy = Proxy(key=f"{masked} #{i + 1}", url=None, template=template)
        proxy.rotate()
        proxy.rotations = 0
        out.append(proxy)
    return out


def build_proxies(urls: list[str], gateway: str | None = None, gateway_slots_n: int = 8) -> list[Proxy]:
    """Proxy objects for fixed URLs (lines with {session} count as gateways) plus an optional gateway."""
    out: list[Proxy] = []
    for url in urls:
        if SESSION in url:
            out.extend(gateway_slots(url, gateway_slots_n))
        else:
            out.append(Proxy(key=mask_url(url), url=url))
    if gateway:
        out.extend(gateway_slots(gateway, gateway_slots_n))
    seen: dict[str, int] = {}
    for proxy in out:   # two lines differing only in the password mask to one label: number them
        seen[proxy.key] = seen.get(proxy.key, 0) + 1
        if seen[proxy.key] > 1:
            proxy.key = f"{proxy.key} #{seen[proxy.key]}"
    return out


def load_proxies(file: Path | None, gateway: str | None, *, gateway_slots_n: int = 8) -> list[Proxy]:
    """The configured proxies: the list file (if any) and the gateway (if any). Empty means direct."""
    urls: list[str] = []
    if file is not None:
        path = Path(file)
        if not path.is_file():
            raise ProxyConfigError(f"proxy list {path} does not exist")
        urls = parse_proxy_lines(path.read_text(encoding="utf-8"), where=str(path))
        if not urls and not gateway:
            raise ProxyConfigError(f"proxy list {path} names no proxy")
    return build_proxies(urls, gateway, gateway_slots_n)


def direct() -> Proxy:
    return Proxy(key="direct", url=None)
