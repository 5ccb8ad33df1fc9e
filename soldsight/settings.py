"""The one settings object: every knob, read from SOLDSIGHT_* environment variables."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Mapping

PREFIX = "SOLDSIGHT_"


def _env(default, help_text: str):
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class Settings:
    # --- where things live -------------------------------------------------
    home: Path = _env(Path("data"), "Everything the pipeline writes: warehouse, lake, images.")

    # --- network: proxies, politeness --------------------------------------
    proxies: Path | None = _env(None, "File with one proxy URL per line (# comments allowed).")
    proxy_gateway: str | None = _env(None, "Residential gateway URL with a {session} placeholder.")
    user_agent: str = _env("soldsight/0.1 (+https://github.com/soldsight)", "User-Agent for every request.")
    ca_bundle: Path | None = _env(None, "PEM file of CA certificates to trust for HTTPS, instead of the bundled ones.")
    http_timeout: float = _env(15.0, "Seconds to wait for connect and for each read.")
    max_attempts: int = _env(6, "Attempts per URL before giving up for this run.")
    backoff_base: float = _env(0.5, "First retry delay in seconds; doubles per attempt, with jitter.")
    backoff_max: float = _env(30.0, "Longest single retry delay in seconds.")
    proxy_cooldown: float = _env(5.0, "First cool-down of a failing or banned proxy in seconds; doubles each time.")
    per_host_rate: float = _env(200.0, "Requests per second to one host, at most.")
    per_host_concurrency: int = _env(16, "Requests in flight to one host, at most.")
    download_concurrency: int = _env(8, "Download worker threads.")
    max_image_bytes: int = _env(20_000_000, "Largest image body accepted, in bytes.")
    max_image_pixels: int = _env(64_000_000, "Largest decoded image accepted, in pixels (a JPEG counts at the scale it is decoded).")
    prefer_large_images: bool = _env(True, "Ask eBay for s-l1600 instead of s-l500, falling back.")

    # --- embedding ----------------------------------------------------------
    model: str = _env("lite0", "Embedding backbone: lite0, mobilenetv3large, efficientnetb0, resnet50.")
    model_weights: Path | None = _env(None, "Local weights file for keras.applications backbones.")
    embed_batch_size: int = _env(8, "Images per inference batch (8 beat 32 by 40% on 2 cores: smaller batches stay in cache).")

    # --- pricing --------------------------------------------------------------
    top_k: int = _env(20, "Comparables considered per photo.")
    min_comparables: int = _env(3, "Fewer comparables than this gives 'insufficient'.")
    rerank_top: int | None = _env(None, "Best listings re-checked by geometric verification per photo (default: the fitted 20); 0 is off: faster, about 18 points of top-1 less accurate.")
    litert: bool = _env(True, "Run Lite0 on LiteRT (price, vector, embed, the price fit), converted from TensorFlow's network once per weights file: 2-3x faster, with no 5-9 s start-up (0: TensorFlow, or the numpy engine for a few photos).")
    numpy_engine_photos: int = _env(32, "Price calls with at most this many photos run the CNN in numpy, skipping TensorFlow's 5-9 s start-up (0: always TensorFlow).")
    price_batch: int = _env(64, "Photos priced together, each batch with one CNN batch and one scan of the index; answers are printed and stored batch by batch, so memory stays flat for any number of photos.")
    match_threshold: float | None = _env(None, "Similarity below which no match is claimed (default: calibrated).")
    confident_inliers: int = _env(50, "A match whose photo agrees with the query's at this many affine inliers is confident even when its global similarity is under the threshold (0: the threshold alone). On the bench worlds: 10 of 19 abstentions answered, all rightly, and 1 of 480 photos of albums never sold (named as another pressing of it).")
    second_look: int = _env(25, "A confident answer whose re-ranked match has fewer inliers than this looks at the photo again through 5 windows off its centre and turned a quarter, half and three quarters round, and keeps a second answer when its match has 3 more inliers (0: never). About 1 photo in 10 on the bench worlds.")
    read_text_margin: float = _env(1.0, "When another item's listing scores within this of the match (similarity + 0.02 x inliers), the words on the sleeve are read and compared with the candidates' titles; the one they agree with most becomes the match, or a listing they name that the image search left out (0: never read). About 6 photos in 10 on the bench worlds, ~70 ms each.")
    read_listing_photos: bool = _env(True, "The price fit reads the words printed on each indexed photo not read before (about 36 ms a photo on 2 cores; warehouse table photo_text), and pricing compares them with the words read on the query photo: a pressing's sticker ('180g', 'DELUXE') read on the photo, or plainly not there, picks between two pressings of one artwork (0: neither).")
    ambiguity_margin: float = _env(0.15, "Another item whose re-ranked score (similarity + 0.02 x inliers) comes this close to the match's is named beside it as a close second (0: never).")

    # --- scraping -------------------------------------------------------------
    marketplace_url: str = _env("https://www.ebay.com", "Base URL of the marketplace to scrape.")
    searches: tuple[str, ...] = _env((), "Searches the nightly refresh scrapes, separated by ';'.")
    scrape_pages: int = _env(3, "Result pages per search, at most.")
    scrape_rate: float = _env(0.5, "Requests per second to the marketplace when scraping, at most.")

    # --- warehouse ------------------------------------------------------------
    lock_timeout: float = _env(120.0, "Seconds to wait for another writer to release the warehouse.")

    # Derived locations: all inside home, so nothing is written elsewhere.
    @property
    def warehouse_path(self) -> Path:
        return self.home / "soldsight.duckdb"

    @property
    def lake_dir(self) -> Path:
        return self.home / "lake"

    @property
    def images_dir(self) -> Path:
        return self.home / "images"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def inbox_exports(self) -> Path:
        return self.home / "inbox" / "exports"

    @property
    def inbox_photos(self) -> Path:
        return self.home / "inbox" / "photos"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Settings":
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _convert(f.name, f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_home(self, home: Path) -> "Settings":
        from dataclasses import replace

        return replace(self, home=Path(home))

    @staticmethod
    def describe() -> list[tuple[str, str, str]]:
        """(variable, default, meaning) for every setting, for --help and the README."""
        return [(PREFIX + f.name.upper(), _shown(f.default), f.metadata["help"]) for f in fields(Settings)]


def _shown(default) -> str:
    """A default as a user would type it in the variable ('data', not PosixPath('data'))."""
    if default is None or default == ():
        return "(unset)"
    if isinstance(default, bool):
        return "true" if default else "false"
    return str(default)


def _convert(name: str, type_name: str, raw: str):
    type_name = str(type_name)
    try:
        if "Path" in type_name:
            return Path(raw)
        if type_name.startswith("bool"):
            if raw.strip().lower() in ("1", "true", "yes", "on"):
                return True
            if raw.strip().lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if type_name.startswith("int"):
            return int(raw)
        if type_name.startswith("float"):
            return float(raw)
        if type_name.startswith("tuple"):
            return tuple(part.strip() for part in raw.split(";") if part.strip())
        return raw
    except ValueError:
        raise SettingsError(f"{PREFIX}{name.upper()}={raw!r} is not a valid {type_name}") from None


class SettingsError(ValueError):
    """A SOLDSIGHT_* variable that cannot be read."""


def get_settings(**overrides) -> Settings:
    return Settings.from_env(**overrides)
