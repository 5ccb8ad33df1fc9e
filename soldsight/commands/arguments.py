"""Argument types the commands share: a number below its floor is refused by argparse, with the flag named."""
from __future__ import annotations

import argparse


def at_least(floor: int, number: type = int):
    """A whole number (or, with number=float, any number) of at least `floor`; argparse prints
    `argument --top: must be at least 1, not -2`. A float's nan is refused too: it is not at least anything."""
    kind = "a whole number" if number is int else "a number"

    def parse(text: str):
        try:
            n = number(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from None
        if not n >= floor:
            raise argparse.ArgumentTypeError(f"must be at least {floor}, not {text.strip()}")
        return n

    return parse
