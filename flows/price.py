"""Price new photos: every photo in the inbox (or the given paths), suggestions stored, photos filed."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from prefect import flow
from prefect.runtime import flow_run
from pydantic import Field

from tasks.common import ensure_limits, install_redaction, settings_for
from tasks.price import Grade, file_photos, inbox_photos, price_photos, price_report
from tasks.report import report


def _run_name() -> str:
    return f"price-{datetime.now(timezone.utc):%Y-%m-%d-%H%M%S}"


@flow(name="price", flow_run_name=_run_name, log_prints=True)
def price(
    home: str | None = None,
    photos: list[str] | None = None,
    media: Grade | None = None,
    sleeve: Grade | None = None,
    top_k: Annotated[int, Field(ge=1)] | None = None,
    move: bool = True,
    currency: Annotated[str, Field(pattern="^[A-Za-z]{3}$")] | None = None,
    days: Annotated[int, Field(ge=1)] | None = None,
) -> dict:
    """Identify and price each photo; store every suggestion; move each photo to done/ or failed/.

    photos: paths to price (default: every photo in <home>/inbox/photos). media, sleeve: the
    item's grades, to adjust the price for condition. move: file the photos afterwards.
    currency, days: only comparables sold in this ISO currency, or in the last N days.
    Prefect checks the grades, top_k, currency and days before the run starts (the UI's run form shows
    the bounds), so a bad value fails the run at once, naming the parameter.
    """
    started = datetime.now(timezone.utc)
    settings = settings_for(home)
    home = str(settings.home)
    install_redaction()
    ensure_limits(proxy_slots=settings.download_concurrency)

    batch = photos if photos is not None else inbox_photos(home)
    results = price_photos(home, batch, len(batch), media, sleeve, top_k, currency, days)
    reports = [price_report(results)]
    if move:
        reports.append(file_photos(results))
    summary = report(home, "price", str(flow_run.id or started.isoformat()), started, reports)
    return {**summary, "results": results}


if __name__ == "__main__":
    price()
