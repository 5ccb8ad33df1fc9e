"""The words printed on the listing photos, against the words read on the query photo: which pressing it is.

Two pressings of one album share artwork, artist and title; what often tells them apart is print on the
sleeve, such as a sticker ('180g', 'DELUXE', 'Includes the hit'). To the image features a sticker is a
few cells among hundreds, and a photo of the plain pressing matched its stickered pressing as often as
not (docs/price.md, session 23). The price fit reads each indexed photo once (soldsight.price.photo_text).
When a query photo's sleeve is read, a challenger among the contenders (text_match.contenders) that the
title words agree with as much as with the match becomes the match when
- a word printed on the challenger's photo is read on the query and the match's photo does not bear it; or
- the words printed on the match's photo that are not read on the query, though it was read plainly enough
  (LEGIBLE characters of the match's title and artist), are none of them borne by the challenger's photo,
  whose own such words were all read.
A photo bears a word printed on it spelt alike or misread ('COLOUND' for 'COLOURED', _Print.bears). Only
words printed on RECURRING candidates' photos count (any of the search's candidates, not only the contenders:
one pressing's photos in the margin may all have their sticker misread), and only those that are not the
listing's own title and artist read another way: one photo's misreading, or the title, is not print that
tells pressings apart.
"""
from __future__ import annotations

from collections import Counter
from difflib import SequenceMatcher

from soldsight.price.text_match import MIN_INLIERS, MIN_WORD, agreement, contenders, look_alike, one_item, read_text

RECURRING = 2  # candidates' photos a printed word must be read on: one photo's misreading is not print
LEGIBLE = 8    # characters of the match's title and artist read on the query for a missing word to count
TITLE_RUN = 4  # characters in a row that a printed word shares with the listing's title or artist for it to be
               # that title read another way ('inofSummStatic', a seller's 'Last Feer'), not print of its own
MISREAD = 0.75  # likeness (difflib's ratio) at which a word on a photo is another reading of a printed word:
                # 'COLOUND' of 'COLOURED' (0.80), 'DELUNE' of 'DELUXE' (0.83), not 'UNITED' of 'LIMITED' (0.62)


def _sleeve_read(lines: list[str]) -> str:
    """The lines read on the sleeve as one string, in the form printed words are searched for."""
    return "".join(look_alike(line) for line in lines)


def _words(lines) -> set[str]:
    return {w for w in (look_alike(line) for line in lines or []) if len(w) >= MIN_WORD}


class _Print:
    """The printed words of one photo's contenders: each one's words, and which of them tell pressings apart
    (read on RECURRING of the candidates' photos, comps)."""

    def __init__(self, near: list[dict], comps: list[dict], printed: dict[str, list[str]]):
        self.words = {id(c): _words(printed.get(c.get("image_path"))) for c in near}
        photos = {c.get("image_path") for c in [*near, *comps]} - {None}
        seen = Counter(w for path in photos for w in _words(printed.get(path)))
        self.telling = {id(c): {w for w in self.words[id(c)] if seen[w] >= RECURRING and not _titled(w, c)}
                        for c in near}

    def on(self, c: dict) -> set[str]:
        return self.words[id(c)]

    def telling_on(self, c: dict) -> set[str]:
        return self.telling[id(c)]

    def bears(self, c: dict, word: str) -> bool:
        """Whether c's photo has the word, spelt alike or misread (MISREAD): the same print."""
        return any(v == word or SequenceMatcher(None, v, word).ratio() >= MISREAD for v in self.words[id(c)])


def _titled(word: str, c: dict) -> bool:
    """Whether a printed word is the listing's own title or artist, read or spelt another way."""
    own = look_alike(f"{c.get('title') or ''}{c.get('artist') or ''}")
    return word in own or any(word[i:i + TITLE_RUN] in own for i in range(len(word) - TITLE_RUN + 1))


def _near(comps: list[dict], weight: float, margin: float) -> list[dict]:
    return [c for c in contenders(comps, weight, margin)
            if one_item(c) and (c is comps[0] or c["inliers"] >= MIN_INLIERS)]


def print_differs(comps: list[dict], printed: dict[str, list[str]], weight: float, margin: float) -> bool:
    """Whether the match's photo and a contender's differ in a word that tells pressings apart: the sleeve is
    then worth reading even when every contender is the same item by its details (a pressing of the same year)."""
    near = _near(comps, weight, margin)
    if len(near) < 2:
        return False
    words = _Print(near, comps, printed)
    match = near[0]
    return any(words.telling_on(match) - words.on(c) or words.telling_on(c) - words.on(match) for c in near[1:])


def print_unread(comps: list[dict], lines: list[str] | None, printed: dict[str, list[str]], weight: float,
                 margin: float) -> bool:
    """Whether the match's photo shows a word that tells pressings apart, and the sleeve, read plainly (LEGIBLE
    characters of the match's title and artist), does not: the photo is likely of another pressing, which
    the image search may have left out of the candidates."""
    near = _near(comps, weight, margin)
    if not near or not lines or agreement(near[0], read_text(lines)) < LEGIBLE:
        return False
    read = _sleeve_read(lines)
    return any(w not in read for w in _Print(near, comps, printed).telling_on(near[0]))


def choose_by_printed_words(comps: list[dict], lines: list[str], printed: dict[str, list[str]], weight: float,
                            margin: float) -> tuple[list[dict], str | None]:
    """comps with the first contender that the printed words prefer to the match moved first (the module's
    rule), and why, in words for the answer; (comps, None) when the match stays."""
    near = _near(comps, weight, margin)
    if len(near) < 2 or not lines:
        return comps, None
    words = _Print(near, comps, printed)
    title_read, read = read_text(lines), _sleeve_read(lines)
    match = near[0]
    agreed = agreement(match, title_read)

    def why(c: dict) -> str | None:
        if agreement(c, title_read) < agreed:
            return None
        found = {w for w in words.telling_on(c) if w in read and not words.bears(match, w)}
        if found and all(words.bears(c, w) for w in words.telling_on(match) if w in read):
            return f"{_as_printed(found, c, printed)} is printed on its photo and read on the sleeve"
        # Print on the match's photo that the sleeve lacks counts for a challenger whose photo lacks it too: a
        # photo of the match's own pressing with its sticker misread ('COLOUND') is no plain pressing.
        unread = {w for w in words.telling_on(match) if w not in read}
        missing = {w for w in unread if not words.bears(c, w)}
        unexplained = {w for w in words.telling_on(c) if w not in read and not words.bears(match, w)}
        if missing and missing == unread and agreed >= LEGIBLE and not unexplained:
            return (f"{_as_printed(missing, match, printed)} is printed on the photo of listing "
                    f"{match['listing_id']} but not read on the sleeve")
        return None

    for c in near[1:]:
        reason = why(c)
        if reason:
            return [c, *(x for x in comps if x is not c)], reason
    return comps, None


def _as_printed(found: set[str], c: dict, printed: dict[str, list[str]]) -> str:
    """The words as read on the listing's photo ('DELUXE', not the comparison's 'deluxe')."""
    shown = [line for line in printed.get(c.get("image_path")) or [] if look_alike(line) in found]
    return " / ".join(f"'{line}'" for line in dict.fromkeys(shown))
