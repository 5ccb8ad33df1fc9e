"""Word lists for made-up artists, titles, labels and seller titles. Nothing here names a real record."""
from __future__ import annotations

import random

FIRST = ["Mira", "Otis", "Juno", "Dale", "Rosa", "Felix", "Nina", "Arlo", "Vera", "Cal", "Ines", "Hugo",
         "Lola", "Ezra", "Maeve", "Bram", "Tess", "Remy", "Ada", "Wes", "Cleo", "Saul", "Edie", "Rufus"]
LAST = ["Castell", "Hargrove", "Vance", "Okafor", "Lindqvist", "Moreau", "Pryce", "Quill", "Bexley",
        "Tamura", "Delacroix", "Whitlock", "Sorensen", "Abernathy", "Marlowe", "Kestrel", "Fairweather"]
BAND_ADJ = ["Velvet", "Electric", "Silver", "Hollow", "Paper", "Crimson", "Golden", "Midnight", "Wild",
            "Lonesome", "Neon", "Copper", "Rusty", "Static", "Blue", "Iron", "Gentle", "Broken", "Lucky"]
BAND_NOUN = ["Harbors", "Foxes", "Satellites", "Orchards", "Ravens", "Engines", "Daisies", "Comets",
             "Lanterns", "Tigers", "Rivers", "Ghosts", "Pilots", "Wolves", "Sparrows", "Machines", "Saints"]
SUFFIX = ["Trio", "Quartet", "Orchestra", "& The Nightshift", "Band", "Ensemble", "& His Combo"]
TITLE_A = ["Midnight", "Paper", "Endless", "Golden", "Quiet", "Northern", "Falling", "Electric", "Last",
           "Summer", "Hidden", "Broken", "Silver", "Distant", "Velvet", "Lost", "Burning", "Sweet", "Cold"]
TITLE_B = ["Static", "Moons", "Highway", "Hours", "Gardens", "Lights", "Signals", "Rain", "Dreams",
           "Avenue", "Tides", "Echoes", "Horizon", "Fever", "Machines", "Parade", "Shadows", "Weather"]
TITLE_SOLO = ["Reverie", "Undertow", "Afterglow", "Monolith", "Tangerine", "Solstice", "Vagabond",
              "Kaleidoscope", "Meridian", "Driftwood", "Nocturne", "Wanderlust", "Overture", "Mirage"]
LABELS = ["Harbor Records", "Bluebird Sound", "Lantern Music", "Okra Records", "Northside", "Parlour",
          "Sundial", "Red Kite Records", "Monarch", "Gull & Anchor", "Cascade", "Foxglove", "Meridian"]
GENRES = ["Rock", "Jazz", "Soul", "Folk", "Pop", "Electronic", "Blues", "Funk / Soul", "Country", "Reggae"]
SONG_WORDS = TITLE_A + TITLE_B + ["Love", "Train", "Blues", "Song", "Girl", "Road", "Night", "Fire", "Home"]
STICKERS = ["180g", "REMASTERED", "LIMITED", "1st PRESS", "Includes the hit", "COLOURED VINYL", "DELUXE"]
LOCATIONS = [
    ("Henderson, Nevada, United States", "USD"), ("Portland, Oregon, United States", "USD"),
    ("Austin, Texas, United States", "USD"), ("Brooklyn, New York, United States", "USD"),
    ("Columbus, Ohio, United States", "USD"), ("Tampa, Florida, United States", "USD"),
    ("Denver, Colorado, United States", "USD"), ("Chicago, Illinois, United States", "USD"),
    ("Seattle, Washington, United States", "USD"), ("Nashville, Tennessee, United States", "USD"),
    ("Leeds, United Kingdom", "GBP"), ("Bristol, United Kingdom", "GBP"),
]


def artist_name(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.35:
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    if kind < 0.75:
        return f"The {rng.choice(BAND_ADJ)} {rng.choice(BAND_NOUN)}"
    if kind < 0.9:
        return f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(SUFFIX)}"
    return f"{rng.choice(BAND_ADJ)} {rng.choice(BAND_NOUN)}"


def album_title(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.55:
        return f"{rng.choice(TITLE_A)} {rng.choice(TITLE_B)}"
    if kind < 0.85:
        return rng.choice(TITLE_SOLO)
    return f"{rng.choice(TITLE_B)} of {rng.choice(TITLE_A)} {rng.choice(TITLE_B)}"


def song(rng: random.Random) -> str:
    return " ".join(rng.sample(SONG_WORDS, rng.randint(1, 3))).title()


def typo(word: str, rng: random.Random) -> str:
    """One slip of the finger: a swapped, dropped or doubled letter."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 2)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == 1:
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def seller_title(rng: random.Random, artist: str, title: str, year: int, label: str, catno: str,
                 media_short: str | None, fmt: str) -> str:
    """A title the way sellers write them: reordered, abbreviated, shouted, misspelt, <= 80 chars."""
    parts = [artist, title] if rng.random() < 0.75 else [title, artist]
    if rng.random() < 0.3:
        parts.insert(1, "-")
    extras = []
    if rng.random() < 0.7:
        extras.append(rng.choice([fmt, "LP", "Vinyl LP", "LP Vinyl", "Record", "12\""]))
    if rng.random() < 0.5:
        extras.append(str(year))
    if rng.random() < 0.3:
        extras.append(rng.choice(["Vtg", "Vintage", "VTG", "Original", "Orig Press", "1st Press"]))
    if rng.random() < 0.25:
        extras.append(label)
    if rng.random() < 0.2:
        extras.append(catno)
    if media_short and rng.random() < 0.45:
        extras.append(media_short)
    if rng.random() < 0.15:
        extras.append(rng.choice(["Rare!", "EXC", "Tested", "Plays Great", "Shrink", "NICE"]))
    rng.shuffle(extras)
    words = " ".join(parts + extras).split()
    if rng.random() < 0.2:
        k = rng.randrange(len(words))
        words[k] = typo(words[k], rng)
    text = " ".join(words)
    if rng.random() < 0.12:
        text = text.upper()
    return text[:80].rstrip()
