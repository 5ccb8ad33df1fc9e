"""Argument types the commands share: a count below its floor is refused by argparse, with the flag named."""
from __future__ import annotations

import argparse


def at_least(floor: int):
    """A whole number of at least `floor` (argparse prints `argument --top: must be at least 1, not -2`)."""
    def whole_number(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if n < floor:
            raise argparse.ArgumentTypeError(f"must be at least {floor}, not {n}")
        return n

    return whole_number


def hours_at_least(floor: float):
    """A number of hours of at least `floor` (a negative age would make every saved page stale)."""
    def hours(text: str) -> float:
        try:
            n = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not n >= floor:  # also refuses nan
            raise argparse.ArgumentTypeError(f"must be at least {floor:g}, not {text}")
        return n

    return hours
