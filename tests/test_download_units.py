"""The downloader's plain logic on strings and bytes: masking, classification, validation, storage,
eBay sizes, politeness (the proxy pool is in test_download_pool.py)."""
from __future__ import annotations

import io
import logging
import random
import threading
import time

import pytest
from PIL import Image

from soldsight.download.client import Fetcher
from soldsight.download.ebay import larger_variant
from soldsight.download.fetch import PERMANENT, SUSPECT, TRANSIENT, classify_status, is_bot_check, parse_retry_after
from soldsight.download.pool import BAN, FAILURE, ORIGIN, SUCCESS, ProxyPool
from soldsight.download.proxies import build_proxies, direct, gateway_slots
from soldsight.download.store import sweep_temp_files, store_image
from soldsight.download.validate import ImageInfo, Invalid, validate_image
from soldsight.secrets import RedactingFilter, mask_url, redact, register_secret
from tests.fixtures.download import photo
from world.servers import payloads

# --- secrets -------------------------------------------------------------------------------


def test_mask_url_hides_only_the_password():
    assert mask_url("http://alice:s3cr3t@proxy.example:8080") == "http://alice:***@proxy.example:8080"
    assert mask_url("http://user-session-ab12:pw@gw:7000/x?y=1") == "http://user-session-ab12:***@gw:7000/x?y=1"
    assert mask_url("http://proxy.example:8080") == "http://proxy.example:8080"
    assert mask_url(None) is None


def test_redact_finds_credentials_inside_exception_text():
    text = ("HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded (Caused by "
            "ProxyError('Unable to connect to proxy http://bob:hunter22@127.0.0.1:9'))")
    clean = redact(text)
    assert "hunter22" not in clean and "bob:***@127.0.0.1:9" in clean


def test_registered_secret_is_removed_anywhere():
    register_secret("zq-very-private")
    assert "zq-very-private" not in redact("password was zq-very-private, really")


def test_logging_filter_redacts_messages_and_tracebacks():
    register_secret("tb-secret-77")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("test.download.redact")
    log.addHandler(handler)
    try:
        log.error("via %s", "http://u:tb-secret-77@h:1")
        try:
            raise RuntimeError("boom http://u:tb-secret-77@h:1")
        except RuntimeError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert "tb-secret-77" not in out and "u:***@h:1" in out and "RuntimeError" in out


# --- classification ---------------------------------------------------------------------------


@pytest.mark.parametrize("status,expected", [
    (404, ("http_404", PERMANENT, SUCCESS)), (410, ("http_410", PERMANENT, SUCCESS)),
    (429, ("http_429", TRANSIENT, BAN)), (403, ("http_403", TRANSIENT, BAN)),
    (500, ("http_500", TRANSIENT, ORIGIN)), (503, ("http_503", TRANSIENT, ORIGIN)),
    (502, ("http_502", TRANSIENT, FAILURE)), (407, ("proxy_auth", TRANSIENT, FAILURE)),
    (400, ("http_400", PERMANENT, SUCCESS)),
])
def test_status_classification(status, expected):
    assert classify_status(status) == expected


def test_retry_after_seconds_and_dates():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert 0 <= parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") < 1   # in the past: no wait


def test_bot_check_page_is_recognised():
    assert is_bot_check(b"<html><title>Pardon Our Interruption</title>")
    assert is_bot_check(b"<html><head><title>eBay</title></head><body><H1 class=x>Pardon Our\nInterruption</H1>")
    # A result or item called "Pardon Our Interruption" is content, not a wall.
    assert not is_bot_check(b"<html><title>Sold: pardon</title><ul><li class=s-item>Pardon Our Interruption LP</li>")
    assert not is_bot_check(payloads.ENDED_PAGE)


def test_backoff_grows_and_honours_retry_after():
    f = Fetcher(ProxyPool([direct()]), backoff_base=0.1, backoff_max=10, rng=random.Random(3))
    assert f.backoff(1) <= 0.1 and f.backoff(4) > 0.1 * 2 ** 3 * 0.49
    assert f.backoff(1, retry_after=2.0) >= 2.0
    assert f.backoff(1, retry_after=99.0) == 10   # capped


# --- validation ---------------------------------------------------------------------------------

LIMITS = dict(max_bytes=1_000_000, max_pixels=10_000_000)


@pytest.mark.parametrize("fmt,ctype", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")])
def test_real_images_pass(fmt, ctype):
    info = validate_image(photo(1, fmt=fmt), ctype, **LIMITS)
    assert info == ImageInfo(fmt, {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[fmt], 48, 48)


def test_generic_content_type_defers_to_magic_bytes():
    assert isinstance(validate_image(photo(2), "application/octet-stream", **LIMITS), ImageInfo)


@pytest.mark.parametrize("body,ctype,error,kind", [
    (photo(3, fmt="PNG"), "image/jpeg", "content_type_mismatch", SUSPECT),
    (photo(3), "text/plain", "content_type_mismatch", SUSPECT),
    (payloads.ENDED_PAGE, "text/html", "not_image", SUSPECT),
    (b"", "image/jpeg", "not_image", SUSPECT),
    (payloads.corrupt_jpeg(), "image/jpeg", "corrupt", SUSPECT),
    (photo(4)[: len(photo(4)) // 2], "image/jpeg", "corrupt", SUSPECT),
    (payloads.bomb_png(), "image/png", "too_many_pixels", PERMANENT),
    (payloads.bomb_jpeg(), "image/jpeg", "too_many_pixels", PERMANENT),
])
def test_bad_bodies_are_classified(body, ctype, error, kind):
    got = validate_image(body, ctype, **LIMITS)
    assert isinstance(got, Invalid) and (got.error, got.kind) == (error, kind), got


def test_pixel_limit_applies_below_pillows_own():
    big = io.BytesIO()
    Image.new("RGB", (400, 400)).save(big, "PNG")
    got = validate_image(big.getvalue(), "image/png", max_bytes=10**6, max_pixels=100_000)
    assert isinstance(got, Invalid) and got.error == "too_many_pixels"


def test_byte_limit():
    got = validate_image(photo(5), "image/jpeg", max_bytes=100, max_pixels=10**6)
    assert isinstance(got, Invalid) and (got.error, got.kind) == ("too_large", PERMANENT)


# --- storage --------------------------------------------------------------------------------------


def test_store_is_content_addressed_and_shared(tmp_path):
    body = photo(6)
    sha, rel, written = store_image(tmp_path, body, "jpg")
    assert rel.as_posix() == f"images/{sha[:2]}/{sha}.jpg" and written
    assert (tmp_path / rel).read_bytes() == body
    sha2, rel2, written2 = store_image(tmp_path, body, "jpg")
    assert (sha2, rel2, written2) == (sha, rel, False)
    assert not list((tmp_path / "images").rglob(".*"))   # no temp file left


def test_sweep_removes_only_temp_files(tmp_path):
    sha, rel, _ = store_image(tmp_path, photo(7), "jpg")
    leftover = (tmp_path / rel).parent / f".{sha}.jpg.tmp-123-456"
    leftover.write_bytes(b"half")
    assert sweep_temp_files(tmp_path / "images") == 1
    assert not leftover.exists() and (tmp_path / rel).exists()


# --- eBay sizes -----------------------------------------------------------------------------------


def test_larger_variant():
    assert larger_variant("https://i.ebayimg.com/images/g/AbC/s-l500.jpg") == \
        "https://i.ebayimg.com/images/g/AbC/s-l1600.jpg"
    assert larger_variant("https://i.ebayimg.com/images/g/AbC/s-l225.webp?x=1") == \
        "https://i.ebayimg.com/images/g/AbC/s-l1600.webp?x=1"
    assert larger_variant("https://i.ebayimg.com/images/g/AbC/s-l1600.jpg") is None
    assert larger_variant("https://example.com/photo.jpg") is None


# --- politeness -----------------------------------------------------------------------------------


def test_host_limiter_caps_concurrency_per_host_and_paces_requests():
    from soldsight.download.ratelimit import HostLimiter

    limiter = HostLimiter(rate=200.0, concurrency=2)
    lock = threading.Lock()
    inside = {"a": 0, "b": 0}
    peak = {"a": 0, "b": 0}
    starts = {"a": [], "b": []}

    def hit(host):
        with limiter.slot(f"http://{host}.example:80/x"):
            with lock:
                starts[host].append(time.monotonic())
                inside[host] += 1
                peak[host] = max(peak[host], inside[host])
            time.sleep(0.01)
            with lock:
                inside[host] -= 1

    threads = [threading.Thread(target=hit, args=(h,)) for h in "ab" * 6]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == {"a": 2, "b": 2}          # each host capped on its own, and the cap is used
    # The k-th request to a host starts no sooner than k intervals after the first could (a floor:
    # sleep never returns early, so this holds however slow the machine is).
    for host in "ab":
        for k, started in enumerate(sorted(starts[host])):
            assert started >= t0 + k / 200


def test_proxy_repr_and_pool_snapshot_hold_no_password():
    [fixed] = build_proxies(["http://u:repr-secret-1@10.0.0.9:80"])
    [slot] = gateway_slots("http://user-session-{session}:repr-secret-2@gw:1", 1)
    pool = ProxyPool([fixed, slot])
    text = repr(fixed) + repr(slot) + repr(pool.snapshot()) + str(pool.proxies)
    assert "repr-secret" not in text and "u:***@10.0.0.9:80" in text
