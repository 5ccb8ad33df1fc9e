"""download_pending() end to end: listings in a real DuckDB file, photos from the local world."""
from __future__ import annotations

import dataclasses
import hashlib

from soldsight.download.client import Fetcher
from soldsight.download.run import download_pending
from tests.fixtures.download import add_listings, image_rows, path_of, photo, publish
from world.servers import ForwardProxy


def test_downloads_every_photo_once_and_records_rows(world, dl_settings):
    urls = publish(world, 6)
    # Listing b shares a URL with a; listing c's photo has the same bytes as a's under another URL.
    same_bytes = world.image_host.url + "/images/g/copy/s-l500.jpg"
    world.image_host.put(path_of(same_bytes), world.image_host.lookup(path_of(urls[0]))[0])
    add_listings(dl_settings, {"a": urls[:3], "b": [urls[0], urls[3]], "c": [same_bytes, *urls[4:]]})

    s = download_pending(dl_settings, proxies_file=world.proxies_file, concurrency=3)

    rows = image_rows(dl_settings)
    assert len(rows) == 8 and all(r["status"] == "ok" for r in rows)
    assert s.downloaded == 7 and s.new_files == 6 and s.failed_total == 0 and s.not_attempted == 0
    for url in urls + [same_bytes]:
        assert world.image_host.requests_for(path_of(url)) == 1          # one request per URL, ever
    by_url = {r["url"]: r for r in rows}
    assert by_url[same_bytes]["sha256"] == by_url[urls[0]]["sha256"]       # identical bytes share a file
    files = list((dl_settings.home / "images").rglob("*.*"))
    assert len(files) == 6
    for r in rows:
        data = (dl_settings.home / r["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == r["sha256"] and len(data) == r["bytes"]
        assert r["path"] == f"images/{r['sha256'][:2]}/{r['sha256']}.jpg"
        assert (r["width"], r["height"], r["format"]) == (48, 48, "JPEG")
        assert r["proxy"].startswith("http://user") and ":***@" in r["proxy"]

    # A second run has nothing to fetch and changes nothing.
    world.image_host.counters.reset()
    again = download_pending(dl_settings, proxies_file=world.proxies_file)
    assert again.downloaded == 0 and again.skipped == 8 and world.image_host.counters.get("requests") == 0
    assert image_rows(dl_settings) == rows


def test_new_listing_with_a_known_url_reuses_the_file_without_a_request(world, dl_settings):
    urls = publish(world, 2)
    add_listings(dl_settings, {"a": urls})
    download_pending(dl_settings, use_proxy=False)
    world.image_host.counters.reset()
    add_listings(dl_settings, {"z": [urls[1]]})
    s = download_pending(dl_settings, use_proxy=False)
    assert s.reused == 1 and s.downloaded == 0 and world.image_host.counters.get("requests") == 0
    z = [r for r in image_rows(dl_settings) if r["listing_id"] == "z"][0]
    assert z["status"] == "ok" and z["attempts"] == 0


def test_failures_are_rows_with_reasons_and_only_transient_ones_come_back(world, dl_settings):
    settings = dataclasses.replace(dl_settings, max_attempts=3)
    ok, gone, stuck, corrupt = publish(world, 4)
    world.image_host.faults.add(path_of(gone), "not_found")
    world.image_host.faults.add(path_of(stuck), "error", status=503)
    world.image_host.faults.add(path_of(corrupt), "corrupt")
    add_listings(settings, {"x": [ok, gone, stuck, corrupt, "not a url", ""]})

    s = download_pending(settings, proxies_file=world.proxies_file)
    rows = {r["url"]: r for r in image_rows(settings)}
    assert rows[ok]["status"] == "ok"
    assert (rows[gone]["error"], rows[gone]["permanent"], rows[gone]["attempts"]) == ("http_404", True, 1)
    assert (rows[stuck]["error"], rows[stuck]["permanent"], rows[stuck]["attempts"]) == ("http_503", False, 3)
    assert (rows[corrupt]["error"], rows[corrupt]["permanent"]) == ("corrupt", True)
    assert (rows["not a url"]["error"], rows["not a url"]["permanent"]) == ("invalid_url", True)
    assert rows[""]["error"] == "invalid_url"
    assert s.failed == {"http_404": 1, "corrupt": 1, "invalid_url": 2} and s.failed_transient == {"http_503": 1}

    # Next run: only the transient one is tried again, and now it works.
    world.image_host.reset()
    s2 = download_pending(settings, proxies_file=world.proxies_file)
    assert s2.downloaded == 1 and world.image_host.counters.get("requests") == 1
    assert {r["url"]: r["status"] for r in image_rows(settings)}[stuck] == "ok"

    # Unless asked, permanent failures stay failed; --retry-permanent tries them again.
    s3 = download_pending(settings, proxies_file=world.proxies_file, retry_permanent=True)
    assert s3.downloaded == 2 and s3.failed == {"invalid_url": 2}
    assert len(image_rows(settings)) == 6


def test_missing_file_is_fetched_again(world, dl_settings):
    [url] = publish(world, 1)
    add_listings(dl_settings, {"a": [url]})
    download_pending(dl_settings, use_proxy=False)
    (dl_settings.home / image_rows(dl_settings)[0]["path"]).unlink()
    s = download_pending(dl_settings, use_proxy=False)
    assert s.downloaded == 1 and world.image_host.requests_for(path_of(url)) == 2
    assert (dl_settings.home / image_rows(dl_settings)[0]["path"]).is_file()


def test_dead_and_transient_faults_every_recoverable_photo_arrives(world, dl_settings, tmp_path):
    """30% of proxies dead, 20% transient errors, a few permanently bad photos."""
    extra = [ForwardProxy(username=f"x{i}", password=f"xsecret{i}", seed=10 + i).start() for i in range(6)]
    try:
        proxies = world.proxies + extra                       # 10 proxies, 3 of them dead
        for p in (proxies[1], proxies[5], proxies[8]):
            p.set_mode("dead")
        file = tmp_path / "proxies.txt"
        file.write_text("\n".join(p.proxy_url for p in proxies))
        urls = publish(world, 60)
        faults = world.image_host.faults
        faults.set_rate("error", 0.08)
        faults.set_rate("reset", 0.04)
        faults.set_rate("truncate", 0.04)
        faults.set_rate("rate_limit", 0.04, retry_after=0)
        bad = urls[:3]
        for u in bad:
            faults.add(path_of(u), "not_found")
        add_listings(dl_settings, {f"l{i}": urls[i::6] for i in range(6)})

        settings = dataclasses.replace(dl_settings, max_attempts=8)
        s = download_pending(settings, proxies_file=file, concurrency=6)
        rows = {r["url"]: r for r in image_rows(settings)}
        assert len(rows) == 60
        assert {u for u, r in rows.items() if r["status"] != "ok"} == set(bad)
        assert all(rows[u]["permanent"] and rows[u]["error"] == "http_404" for u in bad)
        assert s.downloaded == 57 and s.retries > 0 and s.stopped is None
        snap = {r["proxy"]: r for r in s.proxies}
        for p in (proxies[1], proxies[5], proxies[8]):
            assert snap[p.masked_url]["successes"] == 0 and snap[p.masked_url]["failures"] >= 1
    finally:
        for p in extra:
            p.stop()


def test_all_proxies_dead_stops_with_a_clear_message(world, dl_settings, tmp_path):
    for p in world.proxies[:2]:
        p.set_mode("dead")
    file = tmp_path / "proxies.txt"
    file.write_text("\n".join(p.proxy_url for p in world.proxies[:2]))
    urls = publish(world, 30)
    add_listings(dl_settings, {"a": urls})
    settings = dataclasses.replace(dl_settings, max_attempts=50, proxy_cooldown=0.002, backoff_max=0.004)
    s = download_pending(settings, proxies_file=file, concurrency=2)
    assert s.stopped and "all 2 proxies are down" in s.stopped
    assert s.downloaded == 0 and world.image_host.counters.get("requests") == 0
    rows = image_rows(settings)
    # What was tried is a transient row; what was not stays pending; nothing is silently dropped.
    assert all(r["status"] == "failed" and not r["permanent"] for r in rows)
    assert len(rows) + s.not_attempted == 30


def test_limit_fetches_at_most_n_urls(world, dl_settings):
    urls = publish(world, 5)
    add_listings(dl_settings, {"a": urls})
    s = download_pending(dl_settings, use_proxy=False, limit=2)
    assert s.downloaded == 2 and s.not_attempted == 3 and len(image_rows(dl_settings)) == 2
    s = download_pending(dl_settings, use_proxy=False)
    assert s.downloaded == 3 and len(image_rows(dl_settings)) == 5


def test_ebay_larger_size_is_stored_when_there(world, dl_settings):
    urls = publish(world, 2)
    world.image_host.put(path_of(urls[0]).replace("s-l500", "s-l1600"), photo(5, side=120))
    add_listings(dl_settings, {"a": urls})
    settings = dataclasses.replace(dl_settings, prefer_large_images=True)
    download_pending(settings, proxies_file=world.proxies_file)
    rows = {r["url"]: r for r in image_rows(settings)}
    assert rows[urls[0]]["fetched_url"].endswith("s-l1600.jpg") and rows[urls[0]]["width"] == 120
    assert rows[urls[1]]["fetched_url"] == urls[1] and rows[urls[1]]["width"] == 48


def test_gateway_from_settings(world, dl_settings):
    world.gateway.set_rates(banned=0.4)
    urls = publish(world, 10)
    add_listings(dl_settings, {"a": urls})
    settings = dataclasses.replace(dl_settings, proxy_gateway=world.gateway.proxy_template)
    fetcher = Fetcher.from_settings(settings, gateway_slots=2)
    world.gateway.set_session(fetcher.pool.proxies[0].session, "banned")   # its first exit is banned
    s = download_pending(settings, concurrency=2, fetcher=fetcher)
    fetcher.close()
    assert s.downloaded == 10 and all(r["status"] == "ok" for r in image_rows(settings))
    assert all(r["proxy"].startswith("http://user-session-") and "gwsecret" not in r["proxy"]
               for r in image_rows(settings))
    assert world.gateway.counters.get("bans") >= 1 and len(s.proxies) == 2


def test_listings_from_the_ingest_path(world, dl_settings, tmp_path):
    """The photos of listings that came in through `ingest` (the lead's module) are downloaded."""
    import json

    from soldsight.ingest.ingest import ingest_file
    from warehouse.connection import open_warehouse

    urls = publish(world, 3, prefix="ing")
    records = [{"ebay_id": f"90000{i}", "title": f"LP {i}", "price": {"value": 10 + i, "currency": "USD"},
                "sold_date": "May 06, 2024 16:11:12 PDT", "image_url": u} for i, u in enumerate(urls)]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(records))
    with open_warehouse(dl_settings) as con:
        summary = ingest_file(con, dl_settings.lake_dir, export)
    assert summary.new == 3
    s = download_pending(dl_settings, proxies_file=world.proxies_file)
    rows = image_rows(dl_settings)
    assert s.downloaded == 3 and {r["listing_id"] for r in rows} == {"900000", "900001", "900002"}
    assert all(r["status"] == "ok" for r in rows)
