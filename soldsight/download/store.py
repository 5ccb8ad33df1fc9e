"""Content-addressed image files: images/<sha256[:2]>/<sha256>.<ext>, written via temp file + rename."""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

TMP_MARK = ".tmp-"
# Two workers holding identical bytes write one file: the check-then-write runs under the sha's stripe.
_STRIPES = [threading.Lock() for _ in range(64)]


def image_relpath(sha256: str, ext: str) -> Path:
    return Path("images") / sha256[:2] / f"{sha256}.{ext}"


def store_image(home: Path, body: bytes, ext: str) -> tuple[str, Path, bool]:
    """Write body under home/images once per content; returns (sha256, path relative to home, written now).

    Identical bytes from two URLs share one file. A crash leaves either the whole file or only a
    temp file, which sweep_temp_files() removes at the next run.
    """
    sha = hashlib.sha256(body).hexdigest()
    rel = image_relpath(sha, ext)
    final = Path(home) / rel
    with _STRIPES[int(sha[:2], 16) % len(_STRIPES)]:
        try:
            if os.stat(final).st_size == len(body):
                return sha, rel, False
        except FileNotFoundError:
            pass
        tmp = final.parent / f".{final.name}{TMP_MARK}{os.getpid()}-{threading.get_ident()}"
        try:
            fh = open(tmp, "wb")
        except FileNotFoundError:
            final.parent.mkdir(parents=True, exist_ok=True)
            fh = open(tmp, "wb")
        with fh:
            fh.write(body)
        os.replace(tmp, final)
    return sha, rel, True


def file_ok(home: Path, rel: str | None, sha256: str | None) -> bool:
    """Is the stored file for a row still there? (Cheap: existence and name, not a re-hash.)"""
    if not rel or not sha256:
        return False
    path = Path(home) / rel
    return path.name.startswith(sha256) and path.is_file()


def sweep_temp_files(images_dir: Path) -> int:
    """Remove temp files a killed run left behind; only call while holding the warehouse (one writer)."""
    removed = 0
    if not Path(images_dir).is_dir():
        return 0
    for tmp in Path(images_dir).glob(f"*/.*{TMP_MARK}*"):
        try:
            tmp.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed
