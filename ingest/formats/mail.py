"""Read a saved email (.eml): subject as title, sender and date as metadata, the body, and its attachments.

Parsed with the standard library's email package. Real mail is often slightly broken (a header that does
not parse, a charset nobody knows, a whole file saved as UTF-16), so each step has a fallback that keeps
the text rather than skipping the message. Attachments of a type ragqa reads are read by their own reader
and kept under the heading "Attachment: <name>", so a citation says which attachment it came from.
"""
from __future__ import annotations

import codecs
import email
import email.header
import email.policy
import email.utils
import tempfile
from pathlib import Path, PurePath

from ragqa.ingest.decode import decode_bytes
from ragqa.ingest.documents import Document, Section, SkipFile, read_bytes
from ragqa.ingest.formats.html import decode_html, html_to_sections
from ragqa.ingest.markdown import parse_markdown, stem_of
from ragqa.ingest.reasons import one_line

MAX_ATTACHMENT_BYTES = 50_000_000  # a larger attachment is listed but not read (it would hold up the ingest)


def read_eml(path: Path, rel: str, options=None) -> Document:
    """The message's body and readable attachments as sections; its subject as the title."""
    data = _as_bytes_of_ascii_mail(read_bytes(path))
    try:
        message = email.message_from_bytes(data, policy=email.policy.default)
    except Exception as err:  # noqa: BLE001 - the parser is lenient; this is a file that is not mail at all
        raise SkipFile(f"damaged email: {one_line(err)}") from None
    meta = {name: _header(message, name) for name in ("subject", "from", "to", "date")}
    meta["date"] = _iso_date(meta["date"])
    warnings: list[str] = []
    sections = _body_sections(message, meta, warnings)
    attachments = _attachments(message)
    if attachments:
        names = ", ".join(name for name, _ in attachments)
        sections.append(Section(headings=[], text=f"Attachments: {names}"))
    for name, part in attachments:
        sections += _attachment_sections(name, part, options, warnings)
    return Document(path=rel, title=meta["subject"] or stem_of(rel), sections=sections, kind="email",
                    metadata={key: value for key, value in meta.items() if value}, warnings=warnings)


def _as_bytes_of_ascii_mail(data: bytes) -> bytes:
    """Mail is ASCII-based; a message saved as UTF-16 (Outlook does this) is re-encoded as UTF-8 first.

    >>> _as_bytes_of_ascii_mail("Subject: Hi\\n\\nyo".encode("utf-16"))
    b'Subject: Hi\\n\\nyo'
    """
    head = data[:512]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or head.count(0) * 3 > len(head):
        return decode_html(data)[0].encode("utf-8")  # decode_html knows the BOM and BOM-less UTF-16
    return data


def _header(message, name: str) -> str:
    """A header as one line of text; a header that does not parse is decoded by hand, never fatal."""
    try:
        value = " ".join(str(message.get(name) or "").split())
        if value:
            return value
    except Exception:  # noqa: BLE001, S110 - the default policy parses addresses and dates eagerly; some are bad
        pass
    # Here too when it parsed to nothing (a Date of "next Tuesday" comes back empty): keep what was written.
    for key, raw in message.raw_items():
        if key.lower() == name:
            try:
                raw = str(email.header.make_header(email.header.decode_header(raw)))
            except Exception:  # noqa: BLE001, S110 - an encoded word that does not decode: keep it as it stands
                pass
            return " ".join(str(raw).split())
    return ""


def _iso_date(value: str) -> str:
    """The Date header as ISO 8601 (sortable, shown the same everywhere), or as written if it does not parse.

    >>> _iso_date("Fri, 16 Dec 2022 17:04:16 -0500"), _iso_date("yesterday")
    ('2022-12-16T17:04:16-05:00', 'yesterday')
    """
    try:
        return email.utils.parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError, IndexError):
        return value


def _body_sections(message, meta: dict, warnings: list[str]) -> list[Section]:
    """The plain-text body, or the HTML one when there is no plain text, after a line of who and when."""
    envelope = " · ".join(f"{key.title()}: {meta[key]}" for key in ("from", "to", "date") if meta[key])
    sections = [Section(headings=[], text=envelope)] if envelope else []
    try:
        plain = message.get_body(preferencelist=("plain",))
        html = None if plain else message.get_body(preferencelist=("html",))
    except Exception as err:  # noqa: BLE001 - a broken MIME tree: what is left of it is still worth indexing
        warnings.append(f"email structure not understood ({type(err).__name__}); body may be incomplete")
        plain, html = message, None
    if plain is not None:
        text = "\n".join(line.rstrip() for line in _part_text(plain).replace("\r\n", "\n").split("\n")).strip()
        if text:
            sections[:1] = [Section(headings=[], text=f"{envelope}\n\n{text}".strip())]
    elif html is not None:
        sections += html_to_sections(_part_text(html))[1]
    return sections


def _part_text(part) -> str:
    """A text part's content; an unknown or wrong charset falls back to decode_bytes' guess."""
    payload = part.get_payload(decode=True) or b""
    if isinstance(payload, str):
        return payload
    try:
        return payload.decode(part.get_content_charset() or "utf-8")
    except (LookupError, UnicodeDecodeError):
        return decode_bytes(payload)[0]


def _attachments(message) -> list[tuple[str, object]]:
    """(file name, part) of every attachment, inline images with a name included, in message order."""
    found = []
    for part in message.walk():
        if part.is_multipart():
            continue
        try:
            name, disposition = part.get_filename(), part.get_content_disposition()
        except Exception:  # noqa: BLE001, S112 - a header too broken to name the part
            continue
        if name or disposition == "attachment":
            found.append((PurePath((name or "unnamed").replace("\\", "/")).name or "unnamed", part))
    return found


def _attachment_sections(name: str, part, options, warnings: list[str]) -> list[Section]:
    """An attachment's sections under "Attachment: <name>", if ragqa reads its type; else none."""
    from ragqa.filetypes import kind_of

    kind = kind_of(name)
    payload = part.get_payload(decode=True) if kind else None
    if kind is None or not isinstance(payload, bytes) or not payload or len(payload) > MAX_ATTACHMENT_BYTES:
        return []
    heading = f"Attachment: {name}"
    if kind in ("text", "markdown"):  # no need for a temporary file
        text = decode_bytes(payload)[0]
        sections = parse_markdown(text, name).sections if kind == "markdown" else [Section([], text.strip())]
    else:
        sections = _read_as_file(name, kind, payload, options, warnings)
    out = []
    for section in sections:
        # A page of an attachment is not a page of the message: it goes into the breadcrumb instead.
        page = [f"page {section.page}"] if section.page is not None else []
        if section.text.strip():
            out.append(Section(headings=[heading, *section.headings, *page], text=section.text))
    return out


def _read_as_file(name: str, kind: str, payload: bytes, options, warnings: list[str]) -> list[Section]:
    from ragqa.ingest.formats import read_document

    with tempfile.TemporaryDirectory(prefix="ragqa-attachment-") as folder:
        file = Path(folder) / ("attachment" + PurePath(name).suffix.lower())
        file.write_bytes(payload)
        try:
            return read_document(file, name, kind, options).sections
        except SkipFile as err:
            warnings.append(f"attachment {name} not read: {err}")
        except Exception as err:  # noqa: BLE001 - a reader's bug must not lose the message itself

            warnings.append(f"attachment {name} not read: {one_line(err)}")
    return []
