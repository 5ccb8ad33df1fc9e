"""Reading the words printed on a sleeve (artist, title, a sticker), with a bundled OCR network.

The CNN's features do not read text, and albums by one artist in one artwork style differ mostly in
their title (docs/price.md, "Reading the sleeve"). RapidOCR runs PaddleOCR's PP-OCRv4 text detector
and recogniser on onnxruntime; both networks ship inside its wheel, so reading works offline.
A reader is loaded on first use (about 0.6 s) and kept for the process; a batch reads two photos at a time.
"""
from __future__ import annotations

import queue
import threading

import numpy as np
from PIL import Image

from soldsight.price.text_match import words

READ_SIDE = 448    # the photo's longer side as read: on the bench worlds it read as many titles as 800 px
                   # (28 and 29 of 40) at under half the time (docs/price.md)
RETRY_SIDE = 640  # a photo in which READ_SIDE found no word is read once more: its centre square, at up to this
                  # side (docs/price.md, session 22)
MIN_CONFIDENCE = 0.5  # the recogniser's own score below which a line is dropped (RapidOCR's default)
READERS = 2  # readers a batch runs side by side, one core each
SURE = 0.9  # a line read with less is recognised again upside down, and the turned reading must reach it
TALL = 1.5  # RapidOCR turns a line whose box is this many times taller than wide (main.get_crop_img_list)


def _new_reader():
    # Imported here: most answers never read, and onnxruntime and OpenCV add ~0.5 s to a cold start.
    from rapidocr_onnxruntime import RapidOCR

    # One thread each: onnxruntime's default of one per core took twice the CPU for the same wall time
    # (130 against 71 core-ms a photo, 65 against 69 ms), so two one-thread readers run side by side instead.
    # The angle classifier is for text upside down, which a sleeve photographed upright does not have.
    return RapidOCR(use_cls=False, det_limit_type="max", det_limit_side_len=2000, min_side_len=0,
                    text_score=MIN_CONFIDENCE, intra_op_num_threads=1, inter_op_num_threads=1)


_free: queue.SimpleQueue = queue.SimpleQueue()  # loaded readers not in use; a reader keeps per-call state
_made = 0
_making = threading.Lock()


def _borrow():
    global _made
    try:
        return _free.get_nowait()
    except queue.Empty:
        pass
    with _making:
        if _made < READERS:
            reader = _new_reader()  # raises when the OCR package cannot load: nothing counted
            _made += 1
            return reader
    return _free.get()


def discard_readers() -> None:
    """Forget the loaded readers, so that the next read loads the OCR package again."""
    global _made
    with _making:
        while True:
            try:
                _free.get_nowait()
            except queue.Empty:
                break
        _made = 0


def read_sleeve(image: Image.Image) -> tuple[list[str] | None, str | None]:
    """The lines of text found on the photo, top to bottom as found, or (None, why not).

    The photo is read at READ_SIDE; when that finds no word to compare (text_match.MIN_WORD letters),
    its centre square, where the search looked for the sleeve, is read again at up to RETRY_SIDE: small
    or thin lettering is lost at the smaller size. Only the centre, because the whole photo read larger
    also reads the other sleeves lying around the subject.
    Errors are values: a missing or broken OCR install, or a photo the reader fails on, gives a reason
    and the answer keeps its ranking by image alone."""
    lines, error = _read_at(image, READ_SIDE)
    if lines is not None and max(image.size) > READ_SIDE and not any(words({"title": line}) for line in lines):
        lines, error = _read_at(_centre_square(image), RETRY_SIDE)
    return lines, error


def _centre_square(image: Image.Image) -> Image.Image:
    w, h = image.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    return image.crop((left, top, left + side, top + side))


def _read_at(image: Image.Image, side: int) -> tuple[list[str] | None, str | None]:
    """One reading of the photo scaled to at most `side` on its longer side."""
    small = image.convert("RGB")
    small.thumbnail((side, side), Image.Resampling.BILINEAR)
    try:
        reader = _borrow()
    except Exception as exc:  # noqa: BLE001 - any failure to read leaves the image ranking as it was
        return None, f"the sleeve's text could not be read: {type(exc).__name__}: {exc}"
    try:
        return _recognise(reader, np.asarray(small)), None
    except Exception as exc:  # noqa: BLE001
        return None, f"the sleeve's text could not be read: {type(exc).__name__}: {exc}"
    finally:
        _free.put(reader)


def _recognise(reader, pixels: np.ndarray) -> list[str]:
    """The lines the reader finds, each recognised; turned half a turn too when it may be upside down.

    RapidOCR turns a tall line a quarter turn one way before recognising it, so the title of a sleeve lying
    turned the other way is read upside down and dropped: for a tall line the better reading of the two is
    kept. A line read with less than SURE may be a sleeve photographed upside down: its turned reading is kept
    when it is better and reaches SURE, as the junk read from upside-down text does not. RapidOCR's angle
    classifier, which decides by itself, turned lines read correctly (session 24, docs/price.md)."""
    boxes, _ = reader(pixels, use_det=True, use_cls=False, use_rec=False)
    if not boxes:
        return []
    boxes = [np.asarray(box, np.float32) for box in boxes]
    crops = reader.get_crop_img_list(pixels, boxes)
    found = [(str(text), float(score)) for text, score, *_ in reader.text_rec(crops)[0]]
    tall = {i for i, box in enumerate(boxes) if _tall(box)}
    again = [i for i in range(len(boxes)) if i in tall or found[i][1] < SURE]
    if again:
        turned, _ = reader.text_rec([np.ascontiguousarray(np.rot90(crops[i], 2)) for i in again])
        for i, (text, score, *_) in zip(again, turned):
            if float(score) > found[i][1] and (i in tall or float(score) >= SURE):
                found[i] = (str(text), float(score))
    return [text for text, score in found if score >= MIN_CONFIDENCE]


def _tall(box: np.ndarray) -> bool:
    """Whether RapidOCR turns this line before recognising it: its crop at least 1.5 times as tall as wide."""
    width = max(np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[2] - box[3]))
    height = max(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2]))
    return height >= TALL * width
