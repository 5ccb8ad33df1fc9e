"""Downloads listing photos through a rotating proxy pool, and fetches pages for the scraper.

Public API (stable; see docs/download.md):
- Fetcher.from_settings(settings, proxies_file=None, use_proxy=True) -> Fetcher
  - fetcher.fetch_page(url) -> PageResult      (HTML through the pool; bot walls ban and rotate)
  - fetcher.fetch_image(url) -> Outcome        (validated image bytes; eBay s-l1600 first if asked)
  - fetcher.fetch(url, check=None) -> Outcome  (the retry/rotation loop)
- fetch_once(session, url, proxy, ...) -> FetchResult   (one attempt, errors as values)
- ProxyPool, AllProxiesDown, load_proxies, Proxy
- download_pending(settings, ...) -> DownloadSummary
- soldsight.secrets.mask_url / redact
"""
from soldsight.download.client import Fetcher, Outcome, PageResult
from soldsight.download.fetch import PERMANENT, SUSPECT, TRANSIENT, FetchResult, fetch_once
from soldsight.download.pool import AllProxiesDown, ProxyPool
from soldsight.download.ratelimit import HostLimiter
from soldsight.download.proxies import Proxy, ProxyConfigError, direct, load_proxies, parse_proxy_lines
from soldsight.download.run import DownloadSummary, download_pending
from soldsight.download.validate import ImageInfo, Invalid, validate_image

__all__ = [
    "Fetcher", "Outcome", "PageResult", "FetchResult", "fetch_once", "TRANSIENT", "PERMANENT", "SUSPECT",
    "ProxyPool", "AllProxiesDown", "Proxy", "ProxyConfigError", "direct", "load_proxies", "parse_proxy_lines",
    "HostLimiter", "DownloadSummary", "download_pending", "ImageInfo", "Invalid", "validate_image",
]
