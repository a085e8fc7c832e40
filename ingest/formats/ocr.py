"""Offline OCR: the text lines of an image, by one of two engines behind one interface.

- `rapidocr` (the default, ocr.engine): PP-OCRv4 detection and recognition models shipped inside the
  rapidocr-onnxruntime wheel, run by onnxruntime; installs with pip alone, reads Chinese as well.
  With ragqa's space repair it made the fewest errors on the typed fixtures (CER 0.005 vs 0.088).
- `tesseract`: Debian's tesseract-ocr binary, run as a subprocess (apt-get install tesseract-ocr).
  Two to three times faster, and better on small print (word recall 0.95 vs 0.91 on a 612x792 page);
  drops lone digits in table cells. English only unless more tesseract-ocr-* languages are installed.

bench/ocr.py measures both. Neither touches the network. An engine loads once per process
(`ocr_engine(name)`): rapidocr's weights take about half a second.
"""
from __future__ import annotations

import importlib.util
import io
import shutil
import subprocess
import threading

import numpy as np
from PIL import Image

from ragqa.ingest.documents import SkipFile
from ragqa.ingest.pdf import clean_pdf_text

ENGINES = ("rapidocr", "tesseract")
SPACE_PROBABILITY = 0.01  # see _SpacedDecoder; measured in bench/ocr.py (0.005-0.05 all fix the fixtures)
MAX_SIDE = 4000  # pixels; larger images are shrunk first (text stays readable, time and memory do not explode)
MIN_TESSERACT_SIDE = 2000  # pixels on the longer side; smaller images are scaled up for tesseract
MIN_CHARACTERS = 3
_LOADED: dict[str, OcrEngine] = {}
_LOADING = threading.Lock()  # reader threads asking at once get one engine, loaded once


class OcrEngine:
    """`lines(image)`: the text lines of a PIL image or a numpy array, in reading order, empty ones dropped."""

    name = ""

    def lines(self, image) -> list[str]:
        raise NotImplementedError


def ocr_engine(name: str = "rapidocr") -> OcrEngine:
    """The engine NAME, loaded once per process; SkipFile saying how to install it if it is missing."""
    with _LOADING:
        if name not in _LOADED:
            if name == "rapidocr":
                _LOADED[name] = RapidOcrEngine()
            elif name == "tesseract":
                _LOADED[name] = TesseractEngine()
            else:
                raise SkipFile(f"unknown OCR engine {name!r} (ocr.engine: one of {', '.join(ENGINES)})")
        return _LOADED[name]


def page_text(engine: OcrEngine, image) -> str:
    """The text OCR reads in IMAGE, tidied as PDF text is; "" for less than MIN_CHARACTERS letters or
    digits, which on the fixtures was only ever noise (a "2" read in the GitHub logo of pypdf's git.pdf)."""
    text = clean_pdf_text("\n".join(engine.lines(image)))
    return text if sum(c.isalnum() for c in text) >= MIN_CHARACTERS else ""


def as_rgb(image) -> Image.Image:
    """A PIL image in RGB (or L), no larger than MAX_SIDE on its longer side."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        # 16-bit or float scans (TIFF): converting would clip everything above 255 to white
        pixels = np.asarray(image, dtype=np.float32)
        image = Image.fromarray((pixels * (255 / max(float(pixels.max()), 1.0))).astype(np.uint8))
    if image.mode not in ("RGB", "L"):
        if "A" in image.mode or (image.mode == "P" and "transparency" in image.info):
            # Text drawn on a transparent background: put it on white, not on black.
            rgba = image.convert("RGBA")
            image = Image.new("RGB", rgba.size, "white")
            image.paste(rgba, mask=rgba.getchannel("A"))
        else:
            image = image.convert("RGB")
    if max(image.size) > MAX_SIDE:
        image = image.copy()
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    return image


class RapidOcrEngine(OcrEngine):
    name = "rapidocr"

    def __init__(self, space_probability: float = SPACE_PROBABILITY):
        if importlib.util.find_spec("rapidocr_onnxruntime") is None:
            raise SkipFile("OCR engine rapidocr is not installed: pip install rapidocr-onnxruntime==1.4.4")
        from rapidocr_onnxruntime import RapidOCR

        self._ocr = RapidOCR()
        recognizer = self._ocr.text_rec
        recognizer.postprocess_op = _SpacedDecoder(recognizer.postprocess_op.character, space_probability)

    def lines(self, image) -> list[str]:
        image = as_rgb(image)
        if min(image.size) < 8:
            return []  # too small to hold text; the detector would fail on it
        result, _ = self._ocr(image)
        boxes = [(np.asarray(box, dtype=float), text) for box, text, _score in result or []]
        return join_lines([(b[:, 1].min(), b[:, 1].max(), b[:, 0].min(), t) for b, t in boxes])


class _SpacedDecoder:
    """rapidocr's CTC decoder (greedy, repeats merged, blanks dropped), except that a blank frame
    where the space character is at all likely (> `space_probability`) counts as a space.

    PP-OCRv4's recogniser, trained mostly on Chinese, rarely lets the space win a frame: English comes
    out as "Loremipsum dolor sitamet" (a known limit of the model, RapidOCR issue #341), which splits no
    words for search. The space is still the runner-up in the gaps between words; on the fixtures this
    took the character error rate from 0.01-0.10 to 0.00-0.01 (bench/ocr.py).
    """

    def __init__(self, characters: list[str], space_probability: float = SPACE_PROBABILITY):
        self.characters = characters  # index 0 is CTC's blank
        self.space = characters.index(" ")
        self.space_probability = space_probability  # above 1: never a space where the blank wins (rapidocr's own)

    def __call__(self, preds: np.ndarray, *_args, **_kwargs) -> list[tuple[str, float]]:
        ids = preds.argmax(axis=2)
        ids = np.where((ids == 0) & (preds[:, :, self.space] > self.space_probability), self.space, ids)
        results = []
        for row, best in zip(ids, preds.max(axis=2), strict=True):
            keep = np.ones(len(row), dtype=bool)
            keep[1:] = row[1:] != row[:-1]
            keep &= row != 0
            text = " ".join("".join(self.characters[i] for i in row[keep]).split())
            results.append((text, float(best[keep].mean()) if keep.any() else 0.0))
        return results


def join_lines(boxes: list[tuple[float, float, float, str]]) -> list[str]:
    """Text boxes (top, bottom, left, text) as lines: sorted top to bottom, boxes whose vertical
    middles lie within half a box height of each other joined left to right.

    >>> join_lines([(12, 30, 200, "world"), (10, 30, 5, "hello"), (40, 60, 5, "next")])
    ['hello world', 'next']
    """
    rows: list[list[tuple[float, float, float, str]]] = []
    for box in sorted(boxes, key=lambda b: (b[0] + b[1]) / 2):
        top, bottom, _, text = box
        if not text.strip():
            continue
        if rows:
            first = rows[-1][0]
            # Compare with the row's first box, and by the smaller height, so that a tall box
            # (vertical text in a margin) cannot swallow the lines beside it.
            tolerance = min(bottom - top, first[1] - first[0]) / 2
            if abs((top + bottom) / 2 - (first[0] + first[1]) / 2) <= tolerance:
                rows[-1].append(box)
                continue
        rows.append([box])
    return [" ".join(b[3].strip() for b in sorted(row, key=lambda b: b[2])) for row in rows]


class TesseractEngine(OcrEngine):
    name = "tesseract"
    languages = "eng"

    def __init__(self):
        binary = shutil.which("tesseract")
        if binary is None:
            raise SkipFile("OCR engine tesseract is not installed: apt-get install tesseract-ocr")
        self._binary = binary

    def lines(self, image) -> list[str]:
        image = as_rgb(image)
        # Tesseract wants letters ~30 px high; a screenshot or a 72-dpi page has them at ~10. Scaling a
        # small image up (as rapidocr does by itself) took word recall on a 612x792 page from 0.59 to 0.95.
        scale = min(3, MIN_TESSERACT_SIDE / max(image.size))
        if scale > 1:
            image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        done = subprocess.run([self._binary, "stdin", "stdout", "-l", self.languages],  # noqa: S603 - tesseract
                              input=buffer.getvalue(), capture_output=True, timeout=600)
        if done.returncode != 0:
            error = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RuntimeError(f"tesseract failed: {error[-1] if error else f'exit code {done.returncode}'}")
        text = done.stdout.decode("utf-8", "replace").replace("\f", "\n")
        return [" ".join(line.split()) for line in text.splitlines() if line.strip()]
