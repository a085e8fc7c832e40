"""Images (.png, .jpg, .jpeg, .tif, .tiff): their text, read by OCR, as page 1 (a multi-page TIFF: one
page per frame). Photos without text are skipped, saying so."""
from __future__ import annotations

import time
import warnings
from pathlib import Path

from PIL import Image, ImageOps, ImageSequence

from ragqa.ingest.documents import Document, Section, SkipFile
from ragqa.ingest.formats import ocr_starting
from ragqa.ingest.formats.ocr import ocr_engine, page_text
from ragqa.ingest.markdown import stem_of
from ragqa.ingest.reasons import PageFailures, one_line

OCR_OFF = "image: OCR is off (ocr.enabled)"
NO_TEXT = "no text found in the image by OCR"


def read_image(path: Path, rel: str, options) -> Document:
    """The image's text by OCR, one Section per page (frame); SkipFile if OCR is off or finds nothing."""
    if not options.ocr_enabled:
        raise SkipFile(OCR_OFF)
    ocr_starting(options)  # in the document worker: OCR has its own time allowance
    engine = ocr_engine(options.ocr_engine)
    started = time.monotonic()
    sections: list[Section] = []
    problems: list[str] = []
    failed = PageFailures("OCR")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # > 89 Mpixels: not a note
            with Image.open(path) as image:
                frames = getattr(image, "n_frames", 1)
                for number, frame in enumerate(ImageSequence.Iterator(image), 1):
                    if time.monotonic() - started > options.ocr_seconds:
                        problems.append(f"OCR stopped after {options.ocr_seconds:g} s at page {number} of "
                                        f"{frames} (ocr.timeout_seconds)")
                        break
                    try:
                        text = page_text(engine, _upright(frame))
                    except (SkipFile, OSError):
                        raise
                    except Exception as err:  # noqa: BLE001 - one bad frame must not lose the others
                        failed.add(number, err)
                        continue
                    if text:
                        sections.append(Section(headings=[], text=text, page=number))
    except SkipFile:
        raise
    except FileNotFoundError:
        raise SkipFile("file disappeared during ingest") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise SkipFile("image too large to read (over 89 million pixels)") from None
    except Exception as err:  # noqa: BLE001 - PIL raises many types for damaged or truncated files
        raise SkipFile(f"damaged or unreadable image: {one_line(err)}") from None
    problems += failed.warnings()
    if not sections:
        raise SkipFile(NO_TEXT + "".join(f" ({p})" for p in problems[:1]))
    return Document(path=rel, title=stem_of(rel), sections=sections, kind="image",
                    metadata={"pages": frames} if frames > 1 else {}, warnings=problems)


def _upright(frame: Image.Image) -> Image.Image:
    """The frame turned as the camera's EXIF orientation says (phone photos are often stored sideways)."""
    frame.load()
    return ImageOps.exif_transpose(frame) or frame
