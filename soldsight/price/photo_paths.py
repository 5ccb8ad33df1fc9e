"""The photos a `soldsight price` call names: files as given, folders as the photos in them."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from soldsight.pipeline import PHOTO_SUFFIXES, pending_files


@dataclass
class PhotoPaths:
    photos: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what a folder held besides photos, said, never dropped
    empty_folders: list[Path] = field(default_factory=list)


def photo_paths(args: list[str | Path], recursive: bool = False) -> PhotoPaths:
    """Files named are kept as named (a bad one becomes an error answer later); a folder stands for
    its photos by suffix, sorted, without hidden files, and whatever else it holds is named in a note
    so that nothing is skipped silently. Subfolders are named too, or with `recursive` their photos
    follow the folder's own, each subfolder in name order (hidden ones left out)."""
    found = PhotoPaths()
    for arg in map(Path, args):
        if not arg.is_dir():
            found.photos.append(arg)
            continue
        photos, others, subfolders = [], [], []
        folders = _tree(arg) if recursive else [arg]
        for folder in folders:
            here = pending_files(folder, PHOTO_SUFFIXES)
            taken = set(here)  # a set: a folder may hold thousands of photos
            rest = [p for p in folder.iterdir() if not p.name.startswith(".") and p not in taken]
            photos += here
            others += sorted(str(p.relative_to(arg)) for p in rest if p.is_file())
            if not recursive:
                subfolders = sorted(p.name for p in rest if p.is_dir())
        found.photos.extend(photos)
        if not photos:
            found.empty_folders.append(arg)
        if not photos or others or subfolders or len(folders) > 1:
            found.notes.append(_note(arg, len(photos), others, subfolders, len(folders)))
    return found


def _tree(folder: Path) -> list[Path]:
    """folder and every folder under it, depth first in name order; hidden ones and links left out."""
    out = []
    for root, dirs, _ in os.walk(folder):  # top-down, so pruning dirs here prunes the walk
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.append(Path(root))
    return out


def _note(folder: Path, n_photos: int, others: list[str], subfolders: list[str], n_folders: int = 1) -> str:
    where = "this folder" if n_folders == 1 else f"{n_folders} folders"
    head = (f"{folder}: {_count(n_photos, 'photo')}" + (f" in {where}" if n_folders > 1 else "") if n_photos
            else f"{folder}: no photos in {where} (looked for {' '.join(PHOTO_SUFFIXES)})")
    left_out = [f"{_count(len(names), kind)} ({_some(names)})"
                for names, kind in ((others, "other file"), (subfolders, "subfolder")) if names]
    return head + (f"; not priced: {' and '.join(left_out)}" if left_out else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def _some(names: list[str], shown: int = 3) -> str:
    return ", ".join(names[:shown]) + (f", and {len(names) - shown} more" if len(names) > shown else "")
