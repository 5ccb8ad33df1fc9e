"""Condition grades: the one table that maps sellers' grading text to the Goldmine scale."""
from __future__ import annotations

import re
from functools import lru_cache

# Goldmine scale, best first. Index = rank (0 is best).
GOLDMINE = ("M", "NM", "VG+", "VG", "G+", "G", "F", "P")

# Seller text (upper-cased, spaces folded) -> Goldmine grade.
# The UK "Record Collector" scale's Excellent (EX, E) is Goldmine VG+. Its plus and minus
# variants round down to the next Goldmine grade, so a suggestion never flatters the item:
# E+ / EX+ -> VG+, E- / EX- -> VG. "Sealed" is Mint by definition. Some eBay sellers write VG++
# for "between VG+ and NM": it rounds down to VG+ for the same reason.
GRADE_TABLE: dict[str, str] = {
    "M": "M", "MINT": "M", "SEALED": "M", "M/M": "M",
    "NM": "NM", "NEAR MINT": "NM", "NM OR M-": "NM", "M-": "NM", "MINT-": "NM", "MINT MINUS": "NM", "NM-": "NM",
    "EX+": "VG+", "E+": "VG+", "EXCELLENT PLUS": "VG+",
    "EX": "VG+", "E": "VG+", "EXCELLENT": "VG+",
    "EX-": "VG", "E-": "VG", "EXCELLENT MINUS": "VG",
    "VG++": "VG+", "VG+": "VG+", "VERY GOOD PLUS": "VG+", "VG PLUS": "VG+",
    "VG": "VG", "VERY GOOD": "VG",
    "VG-": "G+", "VERY GOOD MINUS": "G+",
    "G+": "G+", "GOOD PLUS": "G+",
    "G": "G", "GOOD": "G",
    "F": "F", "FAIR": "F",
    "P": "P", "POOR": "P",
}

_NOTE_SEPARATOR = re.compile(r"\s+-\s+")
_PARENS = re.compile(r"\(([^)]*)\)")
_SPACES = re.compile(r"\s+")


def _key(text: str) -> str:
    return _SPACES.sub(" ", text).strip().upper()


def to_goldmine(text) -> str | None:
    """Goldmine grade for a seller's grading text, or None when it cannot be mapped.

    'Very Good Plus (VG+)  -  wear, stain' -> 'VG+'; 'Near Mint (NM or M-)' -> 'NM';
    'See Item Description' -> None.
    """
    if not text or not isinstance(text, str):
        return None
    return _to_goldmine(text)


@lru_cache(maxsize=4096)  # grading texts repeat across listings
def _to_goldmine(text: str) -> str | None:
    head = _NOTE_SEPARATOR.split(text.strip(), maxsplit=1)[0]
    candidates = [m.group(1) for m in _PARENS.finditer(head)]
    candidates.append(_PARENS.sub(" ", head))
    for candidate in candidates:
        grade = GRADE_TABLE.get(_key(candidate))
        if grade:
            return grade
    return None


def grade_rank(grade: str | None) -> int | None:
    return GOLDMINE.index(grade) if grade in GOLDMINE else None
