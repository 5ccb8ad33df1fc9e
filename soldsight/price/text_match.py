"""Which candidate the words read on a sleeve agree with, and when they decide the match.

After geometric re-ranking, the misses are mostly look-alikes: one artist's albums in one artwork
style, whose titles differ, and a second sleeve or a photo the image search ranked too low. The words
read on the photo (soldsight.price.sleeve_text) are compared with each candidate listing's title and
artist: a candidate's agreement is the number of characters of its words found in what was read.
Among the candidates scoring within a margin of the match, the one the text agrees with most becomes
the match when it agrees more than the match does. On three bench worlds this moved 4, 7 and 9 first
places of 200 to the right album and none to a wrong one (docs/price.md).
"""
from __future__ import annotations

import re
from collections import defaultdict

from soldsight.price.search import item_key
from soldsight.price.verify import reranked_score

MIN_WORD = 3  # shorter words ("LP", "of", a logo's letters) turn up on many sleeves and in many titles
CONFIRM = 12  # characters of the match's words read for the sleeve to name it plainly (confirms)
TITLE_READ = 4  # of them from the title's own words, not the artist's (confirms, text_search.plainly_named)
PLAIN_LINE = 6   # characters (squeezed) of a line read that is rarely a misread fragment
PLAIN_LINES = 2  # such lines for the sleeve to say plainly what it is (an artist and a title)
MIN_INLIERS = 8  # the words may choose only a candidate its photo matches at least this well: an unrelated
                 # sleeve gathers 8 inliers at the median on the bench worlds, the right one under 8 for 1 photo in 100


def squeeze(text: str) -> str:
    """Lower case, letters and digits only: the recogniser often joins words ('HiddenFever'), and sellers
    and sleeves spell the same title with other spaces, dashes and case."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def words(comp: dict) -> set[str]:
    """The squeezed words of a listing's title and artist that are long enough to tell items apart."""
    raw = re.split(r"[\s/,&+-]+", f"{comp.get('title') or ''} {comp.get('artist') or ''}")
    return {w for w in map(squeeze, raw) if len(w) >= MIN_WORD}


def read_text(lines: list[str]) -> str:
    """What was read, squeezed, one line per '|'-separated part: the form agreement() searches."""
    return "|".join(squeeze(line) for line in lines)


# Letters the recogniser takes for one another on printed sleeves ('lron', 'Daisles', 'UNDERTOV', 'Pllots'):
# both sides are compared with each pair written alike.
_LOOK_ALIKE = str.maketrans({"i": "l", "1": "l", "w": "v", "0": "o", "5": "s"})


def look_alike(text: str) -> str:
    """squeeze(), with the letters the recogniser confuses written alike."""
    return squeeze(text).translate(_LOOK_ALIKE)


def agreement(comp: dict, read: str) -> int:
    """Characters of the listing's words found in the squeezed text read on the sleeve, letters the
    recogniser confuses counted as one."""
    return _found(words(comp), read)


def title_agreement(comp: dict, read: str) -> int:
    """agreement() over the words of the listing's title that are not its artist's."""
    return _found(words({"title": comp.get("title")}) - words({"artist": comp.get("artist")}), read)


def _found(wanted: set[str], read: str) -> int:
    read = read.translate(_LOOK_ALIKE)
    return sum(len(w) for w in wanted if w.translate(_LOOK_ALIKE) in read)


def contenders(comps: list[dict], weight: float, margin: float) -> list[dict]:
    """The re-ranked candidates scoring within `margin` of the match, the match first."""
    ranked = [c for c in comps if c.get("inliers") is not None]
    if margin <= 0 or not ranked or ranked[0] is not comps[0]:
        return []
    floor = reranked_score(ranked[0], weight) - margin
    return [c for c in ranked if reranked_score(c, weight) >= floor]


def wants_reading(comps: list[dict], weight: float, margin: float) -> bool:
    """Whether another item's listing scores within `margin` of the match: the text could then change it."""
    near = contenders(comps, weight, margin)
    return len(near) > 1 and any(item_key(c) != item_key(near[0]) for c in near[1:])


def one_item(comp: dict) -> bool:
    """A lot of several albums names them all in its title, so it agrees with any of them."""
    return "," not in str(comp.get("artist") or "")


def choose_by_text(comps: list[dict], lines: list[str], weight: float, margin: float) -> tuple[list[dict], bool]:
    """comps with the contender whose item the text agrees with most (item_agreement) moved first, when that
    item is not the match's and the text agrees with it more; ties go to the higher re-ranked score. A lot
    matched is replaced by a single item the text agrees with as much: the lot's title names that album too,
    and an identification names one album. Returns (comps, whether the match changed)."""
    near = contenders(comps, weight, margin)
    if len(near) < 2 or not lines:
        return comps, False
    read = read_text(lines)
    said = item_agreement(comps, read)
    choosable = (c for c in near if one_item(c) and (c is comps[0] or c["inliers"] >= MIN_INLIERS))
    best = max(choosable, key=lambda c: (said[item_key(c)], reranked_score(c, weight)), default=None)
    if best is None or item_key(best) == item_key(comps[0]):
        return comps, False
    lead = said[item_key(best)] - said[item_key(comps[0])]
    if lead < 0 or (lead == 0 and (one_item(comps[0]) or said[item_key(best)] == 0)):
        return comps, False
    return [best, *(c for c in comps if c is not best)], True


def item_agreement(comps: list[dict], read: str) -> dict[tuple, int]:
    """Each item's agreement (search.item_key) with what was read, over the words of its listings among comps
    that another of its listings has too, spelt alike or one slip apart (_one_slip); over all its words when
    it has one listing. One seller's stray keyword ('1st Press') or misspelling ('Oveerture' beside
    'Overture') then does not choose between two pressings that the sleeve names alike: on seeds 11-17 such
    words had decided 3 first places, 2 of them wrongly (docs/price.md, session 25)."""
    listed: dict[tuple, list[set[str]]] = defaultdict(list)
    for c in comps:
        listed[item_key(c)].append(words(c))
    said = {}
    for key, sets in listed.items():
        if len(sets) == 1:
            said[key] = _found(sets[0], read)
            continue
        shared = {w for i, own in enumerate(sets) for w in own
                  if any(_one_slip(w, v) for j, other in enumerate(sets) if j != i for v in other)}
        said[key] = _found(shared, read)
    return said


def _one_slip(a: str, b: str) -> bool:
    """The same word, or, for words over MIN_WORD letters, one letter dropped, doubled, changed or two swapped:
    the slips of sellers' titles ('Ovrture', 'Oveerture', 'Fleix')."""
    if a == b:
        return True
    if min(len(a), len(b)) <= MIN_WORD or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                   and a[diff[1]] == b[diff[0]])
    short, long = sorted((a, b), key=len)
    i = next((k for k, (x, y) in enumerate(zip(short, long)) if x != y), len(short))
    return short[i:] == long[i + 1:]


def contradicts(match: dict, lines: list[str] | None) -> bool:
    """Whether the sleeve plainly reads words its match's listing has none of: PLAIN_LINES lines of PLAIN_LINE
    characters or more read, and not one of the listing's words among them. The photo is then most likely of
    an item with no sales here, matched to a look-alike: on the bench worlds' open-set draws this held for 27
    answers to photos of albums never sold (26 of them naming an unrelated album) and for none of 2,557 right
    answers; a misread sleeve of a known item still shares a word with its listing (docs/price.md)."""
    if not lines:
        return False
    plain = sum(len(squeeze(line)) >= PLAIN_LINE for line in lines)
    return plain >= PLAIN_LINES and agreement(match, read_text(lines)) == 0


def confirms(comps: list[dict], lines: list[str] | None) -> bool:
    """Whether the sleeve plainly names its match: every word of its artist read, TITLE_READ characters of its
    title's own words, CONFIRM in all, and more than of any other single item's words among the candidates (a
    lot's title names the match's album too); the match one item, whose photo agrees at MIN_INLIERS or more.
    Such a photo is answered although its similarity is under the threshold: a sleeve small, turned or under
    glare, whose words say what it is (docs/price.md)."""
    if not comps or not lines or not one_item(comps[0]) or (comps[0].get("inliers") or 0) < MIN_INLIERS:
        return False
    read = read_text(lines)
    match = comps[0]
    said, artist = agreement(match, read), words({"artist": match.get("artist")})
    if said < CONFIRM or title_agreement(match, read) < TITLE_READ or not artist:
        return False
    if _found(artist, read) < sum(map(len, artist)):
        return False  # part of the artist: another band's album, maybe never sold, can share a word
    return all(agreement(c, read) < said for c in comps[1:] if one_item(c) and item_key(c) != item_key(match))
