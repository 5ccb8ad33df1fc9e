"""The photos a `soldsight price` call names: files as given, folders as the photos directly in them."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from soldsight.pipeline import PHOTO_SUFFIXES, pending_files


@dataclass
class PhotoPaths:
    photos: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what a folder held besides photos, said, never dropped
    empty_folders: list[Path] = field(default_factory=list)


def photo_paths(args: list[str | Path]) -> PhotoPaths:
    """Files named are kept as named (a bad one becomes an error answer later); a folder stands for
    its photos by suffix, sorted, without its subfolders or hidden files, and whatever else it holds
    is named in a note so that nothing is skipped silently."""
    found = PhotoPaths()
    for arg in map(Path, args):
        if not arg.is_dir():
            found.photos.append(arg)
            continue
        photos = pending_files(arg, PHOTO_SUFFIXES)
        taken = set(photos)  # a set: a folder may hold thousands of photos
        rest = [p for p in arg.iterdir() if not p.name.startswith(".") and p not in taken]
        others = sorted(p.name for p in rest if p.is_file())
        subfolders = sorted(p.name for p in rest if p.is_dir())
        found.photos.extend(photos)
        if not photos:
            found.empty_folders.append(arg)
        if not photos or others or subfolders:
            found.notes.append(_note(arg, len(photos), others, subfolders))
    return found


def _note(folder: Path, n_photos: int, others: list[str], subfolders: list[str]) -> str:
    head = (f"{folder}: {_count(n_photos, 'photo')}" if n_photos
            else f"{folder}: no photos in this folder (looked for {' '.join(PHOTO_SUFFIXES)})")
    left_out = [f"{_count(len(names), kind)} ({_some(names)})"
                for names, kind in ((others, "other file"), (subfolders, "subfolder")) if names]
    return head + (f"; not priced: {' and '.join(left_out)}" if left_out else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def _some(names: list[str], shown: int = 3) -> str:
    return ", ".join(names[:shown]) + (f", and {len(names) - shown} more" if len(names) > shown else "")
