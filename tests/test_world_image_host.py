"""Every knob of the image host, exercised with a plain `requests` client."""
from __future__ import annotations

import io

import pytest
import requests
from PIL import Image

from tests.fixtures.world import plain_photo as photo
from world.servers import ImageHost


# --- image host: content ----------------------------------------------------------------------

@pytest.mark.parametrize("fmt,ctype", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")])
def test_serves_real_content_type_whatever_extension_was_asked(world, fmt, ctype):
    data = photo(fmt)
    world.image_host.put(f"/images/g/x{fmt}/s-l500.jpg", data)
    for ext in ("webp", "jpg", "png"):
        r = requests.get(f"{world.image_host.url}/images/g/x{fmt}/s-l500.{ext}", timeout=5)
        assert r.status_code == 200
        assert r.headers["Content-Type"] == ctype
        assert r.content == data


def test_counts_requests_and_bytes_per_path(world, img):
    url, path, data = img
    for _ in range(3):
        requests.get(url, timeout=5)
    assert world.image_host.requests_for(path) == 3
    assert world.image_host.bytes_for(path) == 3 * len(data)
    assert world.image_host.counters.get("requests") == 3


def test_large_size_served_for_some_ids_and_404_for_others(world):
    host = world.image_host
    host.put("/images/g/big1/s-l500.jpg", photo(size=500))
    host.put("/images/g/big1/s-l1600.jpg", photo(size=1200))
    host.put("/images/g/small1/s-l500.jpg", photo(size=500))
    big = requests.get(host.image_url("big1", 1600), timeout=5)
    assert big.status_code == 200 and Image.open(io.BytesIO(big.content)).size == (1200, 1200)
    small = requests.get(host.image_url("small1", 1600), timeout=5)
    assert small.status_code == 404
    assert requests.get(host.image_url("small1", 500), timeout=5).status_code == 200


def test_serves_files_from_its_root_folder(tmp_path):
    data = photo("WEBP")
    (tmp_path / "images/g/disk1").mkdir(parents=True)
    (tmp_path / "images/g/disk1/s-l500.webp").write_bytes(data)
    with ImageHost(root=tmp_path) as host:
        r = requests.get(host.image_url("disk1", ext="jpg"), timeout=5)
        assert (r.status_code, r.headers["Content-Type"], r.content) == (200, "image/webp", data)
        assert requests.get(host.url + "/images/g/../../etc/passwd", timeout=5).status_code == 404
    with pytest.raises(requests.ConnectionError):
        requests.get(host.image_url("disk1"), timeout=2)  # stopped means stopped


# --- image host: faults ------------------------------------------------------------------------

@pytest.mark.parametrize("status", [500, 502, 503])
def test_fault_5xx(world, img, status):
    url, path, _ = img
    world.image_host.faults.add(path, "error", status=status)
    assert requests.get(url, timeout=5).status_code == status
    assert requests.get(url, timeout=5).status_code == status  # every time unless `times` is set


def test_fault_429_with_retry_after(world, img):
    url, path, _ = img
    world.image_host.faults.add(path, "rate_limit", retry_after=7)
    r = requests.get(url, timeout=5)
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"


def test_fault_fails_n_times_then_succeeds(world, img):
    url, path, data = img
    world.image_host.faults.fail_then_succeed(path, 2, "error", status=503)
    codes = [requests.get(url, timeout=5).status_code for _ in range(4)]
    assert codes == [503, 503, 200, 200]
    assert world.image_host.requests_for(path) == 4


def test_fault_slow_response(world, img):
    url, path, data = img
    world.image_host.faults.add(path, "slow", delay=3.0)
    with pytest.raises(requests.Timeout):
        requests.get(url, timeout=0.5)
    world.image_host.faults.add(path, "slow", delay=0.2)
    assert requests.get(url, timeout=10).content == data


def test_fault_stalled_body(world, img):
    url, path, data = img
    world.image_host.faults.add(path, "stall", stall=5.0, fraction=0.25)
    with pytest.raises(requests.RequestException):
        requests.get(url, timeout=0.5)
    assert world.image_host.bytes_for(path) == int(len(data) * 0.25)


def test_fault_connection_reset(world, img):
    url, path, _ = img
    world.image_host.faults.add(path, "reset")
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)


def test_fault_truncated_body(world, img):
    url, path, data = img
    world.image_host.faults.add(path, "truncate", fraction=0.5)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(url, timeout=5)
    assert world.image_host.bytes_for(path) == len(data) // 2


def test_fault_html_instead_of_image(world, img):
    url, path, _ = img
    world.image_host.faults.add(path, "html")
    r = requests.get(url, timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert r.text.lstrip().lower().startswith("<!doctype html")


@pytest.mark.parametrize("kind,status", [("not_found", 404), ("gone", 410)])
def test_fault_permanent_404_and_410(world, img, kind, status):
    url, path, _ = img
    world.image_host.faults.add(path, kind)
    assert [requests.get(url, timeout=5).status_code for _ in range(3)] == [status] * 3


@pytest.mark.parametrize("fmt", ["png", "jpeg"])
def test_fault_decompression_bomb(world, img, fmt):
    url, path, _ = img
    world.image_host.faults.add(path, "bomb", format=fmt)
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"] == f"image/{fmt}"
    assert len(r.content) < 200_000  # small on the wire...
    with pytest.raises(Image.DecompressionBombError):  # ...huge once decoded
        Image.open(io.BytesIO(r.content))


def test_fault_corrupt_jpeg(world, img):
    url, path, _ = img
    world.image_host.faults.add(path, "corrupt")
    r = requests.get(url, timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/jpeg"
    assert r.content[:3] == b"\xff\xd8\xff"
    with pytest.raises(OSError):
        Image.open(io.BytesIO(r.content)).load()


def test_fault_zero_byte_body(world, img):
    url, path, _ = img
    world.image_host.faults.add(path, "empty")
    r = requests.get(url, timeout=5)
    assert r.status_code == 200 and r.content == b"" and r.headers["Content-Length"] == "0"


def test_fault_content_type_mismatch(world, img):
    url, path, data = img
    world.image_host.faults.add(path, "wrong_type", content_type="image/png")
    r = requests.get(url, timeout=5)
    assert r.headers["Content-Type"] == "image/png" and r.content == data  # really a JPEG


def test_fault_rate_is_seeded_and_repeatable(world):
    host = world.image_host
    paths = [f"/images/g/rate{i}/s-l500.jpg" for i in range(200)]
    for p in paths:
        host.put(p, b"\xff\xd8\xff fake")

    def failing():
        return {p for p in paths if requests.get(host.url + p, timeout=5).status_code == 503}

    host.faults.set_rate("error", 0.3, status=503)
    first = failing()
    assert 30 <= len(first) <= 90
    host.reset()
    host.faults.set_rate("error", 0.3, status=503)
    assert failing() == first  # same seed, same attempts -> same failures


def test_fault_rate_per_attempt_lets_retries_through_and_fixed_does_not(world):
    host = world.image_host
    paths = [f"/images/g/retry{i}/s-l500.jpg" for i in range(60)]
    for p in paths:
        host.put(p, b"\xff\xd8\xff fake")
    host.faults.set_rate("error", 0.5)
    codes = {p: [requests.get(host.url + p, timeout=5).status_code for _ in range(6)] for p in paths}
    assert sum(200 in c for c in codes.values()) >= 55  # nearly every path gets through in 6 tries
    host.reset()
    host.faults.set_rate("not_found", 0.5, per_attempt=False)
    fates = {p: {requests.get(host.url + p, timeout=5).status_code for _ in range(3)} for p in paths}
    assert all(len(f) == 1 for f in fates.values())  # a permanent fault stays put
    assert {404} in fates.values() and {200} in fates.values()


def test_reset_clears_faults_and_counters(world, img):
    url, path, _ = img
    world.image_host.faults.add(path, "error")
    requests.get(url, timeout=5)
    world.reset()
    assert world.image_host.requests_for(path) == 0
    assert requests.get(url, timeout=5).status_code == 200


def test_unknown_fault_is_refused(world):
    with pytest.raises(ValueError):
        world.image_host.faults.add("/x", "gremlins")
