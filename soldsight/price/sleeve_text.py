"""Reading the words printed on a sleeve (artist, title, a sticker), with a bundled OCR network.

The CNN's features do not read text, and albums by one artist in one artwork style differ mostly in
their title (docs/price.md, "Reading the sleeve"). RapidOCR runs PaddleOCR's PP-OCRv4 text detector
and recogniser on onnxruntime; both networks ship inside its wheel, so reading works offline.
The reader is loaded on first use (about 0.6 s) and kept for the process.
"""
from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np
from PIL import Image

READ_SIDE = 448    # the photo's longer side as read: on the bench worlds it read as many titles as 800 px
                   # (28 and 29 of 40) at under half the time (docs/price.md)
MIN_CONFIDENCE = 0.5  # the recogniser's own score below which a line is dropped (RapidOCR's default)
READER_ID = "rapidocr-1.4.4/PP-OCRv4-det+rec"


@lru_cache(maxsize=1)
def _reader():
    # Imported here: most answers never read, and onnxruntime and OpenCV add ~0.5 s to a cold start.
    from rapidocr_onnxruntime import RapidOCR

    # The angle classifier is for text turned upside down; a sleeve photographed upright does not need it.
    return RapidOCR(use_cls=False, det_limit_type="max", det_limit_side_len=2000, min_side_len=0,
                    text_score=MIN_CONFIDENCE)


_one_at_a_time = threading.Lock()  # one onnxruntime session per process; its runs use both cores already


def read_sleeve(image: Image.Image) -> tuple[list[str] | None, str | None]:
    """The lines of text found on the photo, top to bottom as found, or (None, why not).

    Errors are values: a missing or broken OCR install, or a photo the reader fails on, gives a reason
    and the answer keeps its ranking by image alone."""
    small = image.convert("RGB")
    small.thumbnail((READ_SIDE, READ_SIDE), Image.Resampling.BILINEAR)
    try:
        reader = _reader()
        with _one_at_a_time:
            found, _ = reader(np.asarray(small))
    except Exception as exc:  # noqa: BLE001 - any failure to read leaves the image ranking as it was
        return None, f"the sleeve's text could not be read: {type(exc).__name__}: {exc}"
    return [str(line) for _, line, score in (found or []) if float(score) >= MIN_CONFIDENCE], None
