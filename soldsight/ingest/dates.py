"""Marketplace date text, such as 'May 06, 2024 16:11:12 PDT', to timezone-aware datetimes."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

# Abbreviations marketplaces print, as fixed UTC offsets in hours.
TZ_OFFSETS: dict[str, float] = {
    "UTC": 0, "GMT": 0, "Z": 0,
    "PST": -8, "PDT": -7, "MST": -7, "MDT": -6, "CST": -6, "CDT": -5, "EST": -5, "EDT": -4,
    "AKST": -9, "AKDT": -8, "HST": -10,
    "BST": 1, "IST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3,
    "AEST": 10, "AEDT": 11, "ACST": 9.5, "ACDT": 10.5, "AWST": 8, "NZST": 12, "NZDT": 13, "JST": 9,
}

_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
# The marketplace's own shape, parsed without strptime because ingest reads millions of them.
_COMMON = re.compile(r"([A-Z][a-z]{2}) (\d{1,2}), (\d{4}) (\d{2}):(\d{2}):(\d{2}) ([A-Z]{1,4})")

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_UNSEEN = object()

_FORMATS = ("%b %d, %Y %H:%M:%S", "%b %d, %Y %H:%M", "%b %d, %Y", "%d %b %Y %H:%M:%S", "%d %b %Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


class DateError(ValueError):
    """A date that cannot be read."""


def parse_sold_at(text) -> datetime | None:
    """A UTC datetime from marketplace text; None when absent; DateError when unreadable.

    Text without a timezone is taken as UTC.
    """
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if not isinstance(text, str):
        raise DateError(f"sold_date is not text: {text!r}")
    clean = " ".join(text.replace("\u00a0", " ").split())
    m = _COMMON.fullmatch(clean)
    if m and m.group(1) in _MONTHS and m.group(7) in TZ_OFFSETS:
        try:
            local = datetime(int(m.group(3)), _MONTHS[m.group(1)], int(m.group(2)),
                             int(m.group(4)), int(m.group(5)), int(m.group(6)))
        except ValueError:
            raise DateError(f"unreadable sold_date {text!r}") from None
        return (local - timedelta(hours=TZ_OFFSETS[m.group(7)])).replace(tzinfo=timezone.utc)
    offset = 0.0
    head, _, last = clean.rpartition(" ")
    if last.upper() in TZ_OFFSETS:
        offset, clean = TZ_OFFSETS[last.upper()], head
    elif last.isalpha() and len(last) >= 3 and head and any(ch.isdigit() for ch in head[-2:]):
        raise DateError(f"unknown timezone {last!r} in sold_date {text!r}")
    for fmt in _FORMATS:
        try:
            local = datetime.strptime(clean, fmt)
        except ValueError:
            continue
        return (local - timedelta(hours=offset)).replace(tzinfo=timezone.utc)
    try:
        parsed = datetime.fromisoformat(clean)
    except ValueError:
        raise DateError(f"unreadable sold_date {text!r}") from None
    return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def to_micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch, as Arrow stores a UTC timestamp."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def sold_at_micros(text, days: dict) -> int | None:
    """parse_sold_at(text) as microseconds since the epoch (same answers, same DateErrors).

    Sold dates in the marketplace's shape share their day and zone with many others, so
    the UTC midnight of each (day, zone) is parsed once into `days` and the clock added.
    """
    if isinstance(text, str):
        # Only text already in the clean shape passes _common_midnight, so no need to clean it.
        head, _, zone = text.rpartition(" ")
        day, _, clock = head.rpartition(" ")
        midnight = days.get((day, zone), _UNSEEN)
        if midnight is _UNSEEN:
            midnight = _common_midnight(day, zone)
            days[(day, zone)] = midnight
        if midnight is not None:
            # The clock is 'HH:MM:SS' in the digits _COMMON's \d accepts, which are what isdecimal() accepts.
            digits = clock[:2] + clock[3:5] + clock[6:]
            if len(clock) == 8 and clock[2] == ":" and clock[5] == ":" and digits.isdecimal():
                hours, minutes, seconds = int(clock[:2]), int(clock[3:5]), int(clock[6:])
                if hours < 24 and minutes < 60 and seconds < 60:
                    return midnight + ((hours * 60 + minutes) * 60 + seconds) * 1_000_000
    moment = parse_sold_at(text)
    return None if moment is None else to_micros(moment)


def _common_midnight(day: str, zone: str) -> int | None:
    """UTC midnight of 'May 06, 2024' in zone, when that is the fast common shape; else None."""
    text = f"{day} 00:00:00 {zone}"
    m = _COMMON.fullmatch(text)
    if not (m and m.group(1) in _MONTHS and zone in TZ_OFFSETS):
        return None
    try:
        return to_micros(parse_sold_at(text))
    except DateError:
        return None


def parse_year(text) -> int | None:
    """A plausible release year, or None."""
    if text is None:
        return None
    try:
        year = int(float(str(text).strip()))
    except ValueError:
        return None
    return year if 1880 <= year <= 2100 else None
