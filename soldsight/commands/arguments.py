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
