"""Turn file bytes into text, and tell text from binary content.

Notes folders collect files from many tools and years: most are UTF-8, some
are Windows-1252 or Latin-1, a few start with a BOM. Decoding never fails; a
guess is reported as a warning so the user knows why odd characters appear.
"""
from __future__ import annotations

import codecs

import charset_normalizer

SNIFF_BYTES = 8192
# Text files have almost no control characters; binaries have many.
MAX_CONTROL_RATIO = 0.10
_TEXT_CONTROLS = {0x09, 0x0A, 0x0C, 0x0D, 0x1B}  # tab, LF, FF, CR, ESC
_TIE = 0.01


def decode_bytes(data: bytes) -> tuple[str, str | None]:
    """Decode bytes to text; the second item is a warning when not UTF-8.

    >>> decode_bytes("héllo".encode("utf-8"))
    ('héllo', None)
    >>> decode_bytes(b"\\xef\\xbb\\xbfhi")
    ('hi', None)
    >>> decode_bytes("café".encode("latin-1"))[1] is not None
    True
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    guess = _guess_encoding(data)
    if guess:
        try:
            return data.decode(guess), f"not UTF-8: decoded as {guess} (best guess)"
        except (UnicodeDecodeError, LookupError):
            pass
    # latin-1 maps every byte to a character, so this cannot fail.
    return data.decode("latin-1"), "not UTF-8: decoded as latin-1 (last resort, some characters may be wrong)"


def _guess_encoding(data: bytes) -> str | None:
    """The detector's pick, but on a tie prefer Windows-1252.

    On short notes the detector cannot tell cp1252 from a dozen code pages
    that decode the same bytes just as cleanly, and cp1252 is by far the
    most common legacy encoding of hand-written notes, so ties go to it.
    """
    try:
        matches = [m for m in charset_normalizer.from_bytes(data)
                   if not m.encoding.startswith(("utf_16", "utf_32"))]
    except Exception:  # noqa: BLE001 - a detector bug must not stop ingest
        return None
    if not matches:
        return None
    best = min(m.chaos for m in matches)
    tied = [m.encoding for m in matches if m.chaos <= best + _TIE]
    western = _decode_or_none(data, "cp1252")
    # The detector lists one code page per distinct result, so cp1252 may
    # hide behind an equivalent one (cp1250 reads "café" the same way).
    if western is not None and any(_decode_or_none(data, enc) == western for enc in tied):
        return "cp1252"
    return tied[0]


def _decode_or_none(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def utf16_without_bom(data: bytes) -> str | None:
    """The text, if `data` is UTF-16 saved without a byte-order mark (Latin text then has a NUL in every
    other byte, which would otherwise look binary); else None.

    >>> utf16_without_bom("Grüße, world".encode("utf-16-le")), utf16_without_bom(b"plain")
    ('Grüße, world', None)
    >>> utf16_without_bom(b"\\x89PNG\\r\\n\\x1a\\n\\x00\\x00\\x00\\rIHDR") is None
    True
    """
    head = data[:SNIFF_BYTES]
    if len(head) < 4 or len(data) % 2:
        return None
    even, odd = head[0::2], head[1::2]
    for zeros, encoding in ((even, "utf-16-be"), (odd, "utf-16-le")):
        other = odd if zeros is even else even
        # Mostly NULs on one side and none on the other: ASCII-range text in two-byte units.
        if zeros.count(0) >= 0.9 * len(zeros) and other.count(0) == 0:
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                return None
            if not looks_binary(text.encode("utf-8")):
                return text
    return None


def looks_binary(data: bytes) -> bool:
    """True when the start of `data` looks like binary, not text.

    A NUL byte is decisive (UTF-16 files also have them, and are not
    supported as notes). Otherwise many control characters give it away.

    >>> looks_binary(b"plain text\\n")
    False
    >>> looks_binary(b"\\x89PNG\\r\\n\\x1a\\n\\x00\\x00")
    True
    """
    head = data[:SNIFF_BYTES]
    if not head:
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 0x20 and b not in _TEXT_CONTROLS)
    return controls / len(head) > MAX_CONTROL_RATIO
