"""Plan a world from a seed: albums (with hard near-duplicates), listings, prices, photo jobs, held-out queries."""
from __future__ import annotations

import math
import random
import string
from datetime import datetime, timedelta, timezone

from world.generate import names
from world.generate.sleeves import random_art

GRADES = ("M", "NM", "VG+", "VG", "G+", "G", "F", "P")
GRADE_WEIGHTS = (3, 20, 35, 22, 10, 6, 3, 1)
# How a grade moves the price, relative to VG+/VG+. The media counts more than the sleeve.
MEDIA_FACTOR = {"M": 1.6, "NM": 1.3, "VG+": 1.0, "VG": 0.7, "G+": 0.5, "G": 0.38, "F": 0.25, "P": 0.15}
SLEEVE_FACTOR = {"M": 1.25, "NM": 1.12, "VG+": 1.0, "VG": 0.86, "G+": 0.73, "G": 0.62, "F": 0.5, "P": 0.4}
WEAR = {"M": 0.0, "NM": 0.05, "VG+": 0.25, "VG": 0.45, "G+": 0.6, "G": 0.75, "F": 0.9, "P": 1.0}
LONG_NAME = {"M": "Mint (M)", "NM": "Near Mint (NM or M-)", "VG+": "Very Good Plus (VG+)", "VG": "Very Good (VG)",
             "G+": "Good Plus (G+)", "G": "Good (G)", "F": "Fair (F)", "P": "Poor (P)"}
UK_NAME = {"VG+": ["EX", "E", "Excellent (EX)"], "VG": ["E-", "EX-"], "NM": ["EX+", "E+"]}
SHIPPING = (3.5, 3.99, 4.0, 4.87, 5.0, 5.5, 5.99, 6.5, 7.99)
FREE_SHIPPING = 0.3
EXPECTED_SHIPPING = round((1 - FREE_SHIPPING) * sum(SHIPPING) / len(SHIPPING), 2)
GBP_PER_USD = 0.79
NOISE_SIGMA = 0.15   # per-listing log-price noise around base x condition
LOT_SHARE = 0.02
VARIANT_SHARE = 0.05  # albums that are another pressing of an album (sticker, logo or title colour)
SHARED_STYLE_SHARE = 0.5  # artists whose albums share one look
LARGE_SHARE = 0.2  # listing photos also served at s-l1600 (the rest answer 404 there)


def condition_factor(media: str, sleeve: str) -> float:
    return MEDIA_FACTOR[media] * SLEEVE_FACTOR[sleeve]


def image_id(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(16))


def _grade(rng: random.Random, around: str | None = None) -> str:
    if around is None:
        return rng.choices(GRADES, GRADE_WEIGHTS)[0]
    i = GRADES.index(around) + rng.choice([-1, 0, 0, 0, 1, 1])
    return GRADES[min(max(i, 0), len(GRADES) - 1)]


def grade_text(grade: str, rng: random.Random) -> str | None:
    """How a seller writes a grade: long form, short, UK style, with a remark, unknown, or nothing."""
    r = rng.random()
    if r < 0.04:
        return None
    if r < 0.07:
        return "See Item Description"
    if r < 0.15 and grade in UK_NAME:
        return rng.choice(UK_NAME[grade])
    if r < 0.30:
        return grade
    if r < 0.35:
        return f"{LONG_NAME[grade]}  -  {rng.choice(['wear, stain', 'ring wear', 'light scuffs', 'seam split'])}"
    return LONG_NAME[grade]


def condition_text(media: str, sleeve: str, rng: random.Random) -> str | None:
    if media == "M" and sleeve == "M" and rng.random() < 0.7:
        return rng.choice(["New", "Brand New", "NewA brand-new, unused, unopened, undamaged item."])
    return rng.choices(
        ["UsedAn item that has been used or worn previously. See the seller\u2019s listing for full details and "
         "description of any imperfections.", "Pre-owned", "Pre-Owned", "Used", None], [40, 30, 10, 15, 5])[0]


def seller_price(value: float, rng: random.Random) -> float:
    """Sellers' price endings: .99, .00, .50 or to the cent."""
    r = rng.random()
    if value < 1:
        return round(max(value, 0.99), 2)
    if r < 0.4:
        return round(math.floor(value) + 0.99, 2)
    if r < 0.7:
        return float(round(value))
    if r < 0.85:
        return round(value * 2) / 2
    return round(value, 2)


# --- albums -------------------------------------------------------------------------------------

def plan_albums(rng: random.Random, n: int) -> list[dict]:
    n_variants = max(1, round(n * VARIANT_SHARE)) if n >= 10 else 0
    originals, albums = n - n_variants, []
    while len(albums) < originals:
        artist = names.artist_name(rng)
        if any(a["artist"] == artist for a in albums):
            continue
        shared = rng.random() < SHARED_STYLE_SHARE
        style = None
        for k in range(min(rng.choice([1, 1, 2, 2, 3, 4]), originals - len(albums))):
            title = names.album_title(rng)
            label = rng.choice(names.LABELS)
            art = random_art(rng, style if shared else None)
            style = style or art
            art["logo"]["letters"] = "".join(w[0] for w in label.split()[:2]).upper()
            albums.append({
                "artist": artist, "title": title, "year": rng.randint(1962, 2023), "label": label,
                "catalog_number": f"{art['logo']['letters']}-{rng.randint(100, 9999)}",
                "genre": rng.choice(names.GENRES), "format": rng.choice(["LP", "LP", "LP", "2LP", "12\""]),
                "base_price": round(min(max(math.exp(rng.gauss(math.log(22), 0.7)), 4.0), 400.0), 2),
                "art": art, "hard_case": "same_artist_style" if shared and k > 0 else None,
            })
    for _ in range(n_variants):
        original = rng.choice([a for a in albums if "variant_of_index" not in a])
        albums.append(_variant(original, albums.index(original), rng))
    for i, album in enumerate(albums):
        album["album_id"] = f"A{i + 1:04d}"
    for album in albums:
        src = album.pop("variant_of_index", None)
        album["family_id"] = albums[src]["album_id"] if src is not None else album["album_id"]
        if src is not None:
            albums[src]["hard_case"] = albums[src]["hard_case"] or "has_pressing_variant"
    return albums


def _variant(original: dict, index: int, rng: random.Random) -> dict:
    """Another pressing of `original`: the same art but for a sticker, a label logo or the title colour."""
    art = {**original["art"], "text": dict(original["art"]["text"]), "logo": dict(original["art"]["logo"])}
    kind = rng.choice(["sticker", "logo", "title_colour"])
    if kind == "sticker":
        art["sticker"] = {"text": rng.choice(names.STICKERS), "colour": [rng.randrange(120, 256), rng.randrange(60), 40],
                          "x": rng.uniform(0.7, 0.82), "y": rng.uniform(0.18, 0.3), "r": rng.uniform(0.08, 0.12)}
        note = f"sticker: {art['sticker']['text']}"
    elif kind == "logo":
        art["logo"] = {**art["logo"], "colour": [rng.randrange(256) for _ in range(3)],
                       "shape": "square" if art["logo"]["shape"] == "circle" else "circle"}
        note = "label logo"
    else:
        art["text"]["title_colour"] = [rng.randrange(256) for _ in range(3)]
        note = "title colour"
    reissue = rng.random() < 0.7
    return {
        **{k: original[k] for k in ("artist", "title", "label", "genre", "format")},
        "year": min(2024, original["year"] + rng.randint(3, 40)) if reissue else original["year"],
        "catalog_number": f"{original['catalog_number']}{rng.choice(['R', 'X', '/2', 'S'])}",
        "base_price": round(original["base_price"] * (rng.uniform(0.45, 0.8) if reissue else rng.uniform(1.3, 2.5)), 2),
        "art": art, "hard_case": f"pressing_{kind}", "variant_note": note, "variant_of_index": index,
    }


def album_brief(album: dict) -> dict:
    """What a photo worker needs to draw an album."""
    return {k: album[k] for k in ("album_id", "artist", "title", "label", "catalog_number", "art")}


# --- photos -------------------------------------------------------------------------------------

def photo_job(rng: random.Random, kind: str, albums: list[dict], all_albums: list[dict], out_dir: str,
              image: str, wear: float, large: bool, query_file: str | None = None) -> dict:
    query = query_file is not None
    fmt = "WEBP" if rng.random() < 0.35 else "JPEG"
    ext = "webp" if fmt == "WEBP" else "jpg"
    rotation = max(-15.0, min(15.0, rng.gauss(0, 4)))
    if rng.random() < 0.04:
        rotation += rng.choice([90, -90])
    scene = rng.choices(["wood", "floor", "cloth", "table", "records"], [25, 20, 20, 20, 15])[0]
    others = [a for a in all_albums if a["album_id"] not in {b["album_id"] for b in albums}]
    clutter = [album_brief(a) for a in rng.sample(others, min(len(others), rng.randint(1, 3)))] if scene == "records" else []
    if query:
        outputs = [(query_file, 800)]
    elif large:
        outputs = [(f"{out_dir}/images/g/{image}/s-l1600.{ext}", 1000), (f"{out_dir}/images/g/{image}/s-l500.{ext}", 500)]
    else:
        outputs = [(f"{out_dir}/images/g/{image}/s-l500.{ext}", 500)]
    return {
        "seed": rng.randrange(2**31), "kind": kind, "albums": [album_brief(a) for a in albums], "clutter": clutter,
        "scene": scene, "orientation": rng.choices(["landscape", "square", "portrait"], [50, 30, 20])[0],
        "longest": outputs[0][1], "scale": rng.uniform(0.45, 0.95) if query else rng.uniform(0.35, 0.95),
        "cut": rng.random() < (0.05 if query else 0.1), "rotation": rotation, "tilt": rng.uniform(0, 0.1),
        "glare": rng.random() < 0.45, "blur": rng.choices([0, 0.4, 0.8, 1.3], [50, 25, 15, 10])[0],
        "noise": rng.uniform(1, 5), "wear": wear, "format": fmt,
        "quality": rng.randint(55, 85) if fmt == "WEBP" else rng.randint(60, 92), "outputs": outputs,
        "image_id": None if query else image, "ext": ext,
    }


# --- listings -----------------------------------------------------------------------------------

def plan_listings(rng: random.Random, albums: list[dict], n_photos: int, out_dir: str, as_of: datetime):
    """Listings (one photo each at least) adding up to exactly n_photos photos, and their photo jobs."""
    n_listings = max(len(albums), round(n_photos / 1.55))
    n_listings = min(n_listings, n_photos)
    per = [min(3, n_listings // len(albums))] * len(albums)
    popularity = [rng.lognormvariate(0, 0.8) for _ in albums]
    for _ in range(n_listings - sum(per)):
        per[rng.choices(range(len(albums)), popularity)[0]] += 1
    slots = [i for i, k in enumerate(per) for _ in range(k)]
    rng.shuffle(slots)
    photo_counts = [1] * len(slots)
    for _ in range(n_photos - len(slots)):
        photo_counts[rng.randrange(len(slots))] += 1
    used_images, used_ids, listings, jobs = set(), set(), [], []
    n_lots = round(len(slots) * LOT_SHARE) if len(albums) >= 4 else 0
    for n, (album_index, n_pics) in enumerate(zip(slots, photo_counts)):
        lot = [albums[album_index]] + (rng.sample([a for a in albums if a is not albums[album_index]],
                                                  rng.randint(1, 3)) if n < n_lots else [])
        listing, listing_jobs = _listing(rng, lot, albums, n_pics, out_dir, as_of, used_images, used_ids)
        listings.append(listing)
        jobs += listing_jobs
    return listings, jobs


def _unique(rng, used: set, make):
    while (value := make(rng)) in used:
        pass
    used.add(value)
    return value


def _listing(rng, lot, albums, n_pics, out_dir, as_of, used_images, used_ids):
    album = lot[0]
    media = _grade(rng)
    sleeve = _grade(rng, media)
    expected = sum(a["base_price"] * condition_factor(media, sleeve) for a in lot) * (0.75 if len(lot) > 1 else 1.0)
    usd = expected * math.exp(rng.gauss(0, NOISE_SIGMA))
    location, currency = rng.choices(names.LOCATIONS, [10] * 10 + [2, 2])[0]
    fx = GBP_PER_USD if currency == "GBP" else 1.0
    shipping = 0.0 if rng.random() < FREE_SHIPPING else round(rng.choice(SHIPPING) * fx, 2)
    sold_at = as_of - timedelta(days=rng.uniform(0, 180))
    media_text, sleeve_text = grade_text(media, rng), grade_text(sleeve, rng)
    listing_id = _unique(rng, used_ids, lambda r: str(r.randint(1, 3)) + "".join(str(r.randrange(10)) for _ in range(11)))
    if len(lot) > 1:
        title = f"Lot of {len(lot)} Vinyl LPs " + ", ".join(f"{a['artist']} {a['title']}" for a in lot)
        title = title[:80].rstrip(", ")
        keyword = f"{album['genre'].split(' /')[0]} Vinyl Lot"
    else:
        short = media if media_text and rng.random() < 0.8 else None
        title = names.seller_title(rng, album["artist"], album["title"], album["year"], album["label"],
                                   album["catalog_number"], short, album["format"])
        r = rng.random()
        keyword = (f"{album['artist']} Vinyl" if r < 0.65 else f"{album['artist']} {album['title']} Vinyl"
                   if r < 0.85 else f"{album['genre'].split(' /')[0]} Vinyl LP")
    kinds = ["lot" if len(lot) > 1 else ("front" if rng.random() < 0.94 else rng.choice(["back", "label", "vinyl"]))]
    kinds += rng.choices(["front", "back", "label", "vinyl"], [30, 35, 20, 15], k=n_pics - 1)
    jobs, photos = [], []
    for kind in kinds:
        image = _unique(rng, used_images, image_id)
        job = photo_job(rng, kind, lot, albums, out_dir, image, WEAR[sleeve], rng.random() < LARGE_SHARE)
        jobs.append(job)
        photos.append({"image_id": image, "kind": kind, "format": job["format"].lower(),
                       "path": f"/images/g/{image}/s-l500.{job['ext']}",
                       "large_path": f"/images/g/{image}/s-l1600.{job['ext']}" if len(job["outputs"]) == 2 else None})
    return {
        "listing_id": listing_id, "title": title, "artist": ", ".join(dict.fromkeys(a["artist"] for a in lot)),
        "release_year": album["year"] if len(lot) == 1 else None,
        "price": seller_price(usd * fx, rng), "currency": currency, "shipping_cost": shipping, "location": location,
        "sold": True, "sold_at": sold_at.replace(microsecond=0).isoformat(),
        "condition": condition_text(media, sleeve, rng), "media_grade": media_text, "sleeve_grade": sleeve_text,
        "format": album["format"] if len(lot) == 1 else "LP", "genre": album["genre"], "label": album["label"],
        "catalog_number": album["catalog_number"] if len(lot) == 1 else None,
        "best_offer": rng.random() < 0.1, "keyword": keyword, "album_ids": [a["album_id"] for a in lot],
        "is_lot": len(lot) > 1, "true_media_grade": media, "true_sleeve_grade": sleeve,
        "expected_price_usd": round(expected, 2), "image_paths": [p["path"] for p in photos], "photos": photos,
    }, jobs


def plan_queries(rng: random.Random, albums: list[dict], n_queries: int, out_dir: str):
    """Fresh photos of known albums (never listed), with the true album and price for judging."""
    answers, jobs = [], []
    order = list(range(len(albums)))
    rng.shuffle(order)
    for q in range(n_queries):
        album = albums[order[q % len(albums)]]
        media = _grade(rng)
        sleeve = _grade(rng, media)
        qid = f"q{q + 1:04d}"
        job = photo_job(rng, "front", [album], albums, out_dir, qid, WEAR[sleeve], False,
                        query_file=f"{out_dir}/queries/{qid}.TMP")
        job["outputs"] = [(f"{out_dir}/queries/{qid}.{job['ext']}", 800)]
        jobs.append(job)
        true_price = round(album["base_price"] * condition_factor(media, sleeve), 2)
        answers.append({
            "query_id": qid, "photo": f"queries/{qid}.{job['ext']}", "album_id": album["album_id"],
            "family_id": album["family_id"], "artist": album["artist"], "title": album["title"],
            "hard_case": album["hard_case"], "media_grade": media, "sleeve_grade": sleeve,
            "true_price": true_price, "true_total_price": round(true_price + EXPECTED_SHIPPING, 2),
            "currency": "USD", "keyword": f"{album['artist']} Vinyl",
        })
    return answers, jobs


def default_as_of() -> datetime:
    return datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
