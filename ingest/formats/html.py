"""Read a saved web page: its main text as Markdown sections under the page's own headings.

The page is parsed, never rendered: no script runs, nothing is fetched (lxml's HTML parser does not load
external resources). What a reader would not call the text is dropped: scripts, styles, navigation, forms,
embedded images (a base64 `src` is an attribute, so it never becomes text). Headings h1..h6 become Markdown
headings, and ragqa.ingest.markdown.parse_markdown turns them into the same breadcrumbs as a note's.
mail.py and epub.py reuse html_to_sections and decode_html.
"""
from __future__ import annotations

import codecs
import json
import re
from pathlib import Path

from ragqa.ingest.decode import decode_bytes
from ragqa.ingest.documents import Document, Section, SkipFile, read_bytes
from ragqa.ingest.markdown import parse_markdown, stem_of

# Chrome, not content. header/footer are dropped only outside <main>/<article>, where they hold the title.
_DROP = {"script", "style", "noscript", "template", "nav", "form", "aside", "svg", "iframe", "object", "embed",
         "button", "select", "textarea", "input", "canvas", "head", "title", "dialog", "map"}
_CHROME = {"header", "footer"}
_DROP_ROLES = {"navigation", "banner", "contentinfo", "search", "complementary", "menu", "menubar"}
_BLOCKS = {"p", "div", "section", "article", "main", "blockquote", "ul", "ol", "dl", "dt", "dd", "table",
           "figure", "figcaption", "address", "details", "summary", "hr", "center", "body", "header", "footer"}
_BOMS = [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")]
_META_CHARSET = re.compile(rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([-\w:.]+)", re.I)
# A heading line, a fence or a front-matter rule in running text would change the Markdown's structure.
_MARKDOWN_SIGNS = re.compile(r"^(#|```|~~~|---)")


def read_html(path: Path, rel: str, options=None) -> Document:
    """The page's main text as sections under its headings; title from <title>, else its first h1."""
    text, warning = decode_html(read_bytes(path))
    title, sections = html_to_sections(text)
    if not sections:
        raise SkipFile("no text to index (the page holds only scripts, styles, navigation or images)")
    return Document(path=rel, title=title or stem_of(rel), sections=sections, kind="html",
                    warnings=[warning] if warning else [])


def decode_html(data: bytes) -> tuple[str, str | None]:
    """Text of an HTML file by the browser's order: byte-order mark, bare UTF-16, <meta charset>, UTF-8,
    then a guess (Windows-1252 on a tie). The second item is a warning when it had to guess.

    >>> decode_html("<p>é</p>".encode("utf-16-le"))
    ('<p>é</p>', None)
    >>> decode_html(b'<meta charset="iso-8859-1"><p>caf\\xe9 \\x80</p>')
    ('<meta charset="iso-8859-1"><p>café €</p>', None)
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="replace"), None
    head = data[:2048]
    if len(head) >= 8 and head.count(0) * 3 > len(head):  # ASCII markup in UTF-16: every other byte is 0
        encoding = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
        return data.decode(encoding, errors="replace"), None
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        name = _charset(declared.group(1).decode("ascii", "replace"))
        if name:
            try:
                return data.decode(name), None
            except UnicodeDecodeError:
                pass  # the declaration lies (common after an editor re-saved the file): guess instead
    return decode_bytes(data)


def _charset(label: str) -> str | None:
    """The codec for a declared charset; Latin-1 and ASCII mean Windows-1252, as in every browser.

    >>> _charset("ISO-8859-1"), _charset("utf8"), _charset("x-unknown")
    ('cp1252', 'utf-8', None)
    """
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    if name in ("latin-1", "iso8859-1", "ascii"):
        return "cp1252"
    # A UTF-16 declaration in bytes we could read as ASCII is wrong by definition (WHATWG says: UTF-8).
    return "utf-8" if name.startswith(("utf-16", "utf-32")) else name


def html_to_sections(html_text: str) -> tuple[str | None, list[Section]]:
    """(the page's title or None, its sections under their heading breadcrumbs).

    >>> html_to_sections("<title>T</title><script>x=1</script><h2>Use</h2><p>Go  on</p><nav>Home</nav>")
    ('T', [Section(headings=['Use'], text='Go on', page=None)])
    """
    title, markdown = html_to_markdown(html_text)
    # Given as front matter so that an h1 other than the <title> stays in the breadcrumb (and the same is dropped).
    doc = parse_markdown(f"---\ntitle: {json.dumps(title)}\n---\n{markdown}" if title else markdown, "page.html")
    has_h1 = any(line.startswith("# ") for line in markdown.split("\n"))
    return title or (doc.title if has_h1 else None), doc.sections


def html_to_markdown(html_text: str) -> tuple[str | None, str]:
    """(the <title> text or None, the main text as Markdown: headings, paragraphs, list items, table rows).

    >>> html_to_markdown("<h1>A</h1><ul><li>x</li><li>y</li></ul><table><tr><td>1</td><td>2</td></tr></table>")
    (None, '# A\\n\\n- x\\n- y\\n\\n1 | 2')
    """
    import lxml.etree
    import lxml.html

    # lxml refuses a str that still declares its byte encoding (XHTML from e-books and mail).
    html_text = re.sub(r"^\s*<\?xml[^>]*\?>", "", html_text.replace("\x00", ""))
    if not html_text.strip():
        return None, ""
    try:
        root = lxml.html.document_fromstring(html_text)
    except (lxml.etree.ParserError, ValueError) as err:
        raise SkipFile(f"damaged html: {' '.join(str(err).split())[:150]}") from None
    for br in root.iter("br"):  # a line break inside a heading or <pre> still separates words
        br.tail = "\n" + (br.tail or "")
    title = " ".join(root.xpath("string(//title)").split()) or None
    mains = root.xpath("//main | //*[@role='main']") or root.xpath("//article")
    out = _Markdown()
    for top in mains if len(mains) == 1 else [root.find("body") if root.find("body") is not None else root]:
        out.walk(top, inside_main=len(mains) == 1)
    return title, out.text()


class _Markdown:
    """Walks the tree once, collecting Markdown lines; inline text is joined and its spaces collapsed."""

    def __init__(self):
        self.lines: list[str] = []
        self.inline: list[str] = []
        self.list_depth = 0

    def walk(self, el, inside_main: bool = False) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else None
        if tag is None or self._dropped(el, tag, inside_main):
            self._add(el.tail)  # a comment's or a dropped element's tail is still text
            return
        inside_main = inside_main or tag in ("main", "article")
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.block()
            heading = " ".join(el.text_content().split())
            if heading:
                self._line("#" * int(tag[1]) + " " + heading, gap=True)
        elif tag == "pre":
            self.block()
            self._line("```\n" + el.text_content().strip("\n").replace("```", "` ` `") + "\n```", gap=True)
        elif tag == "br":
            self.block(gap=False)
        else:
            if tag in ("li", "tr"):
                self.block(gap=False)
                if tag == "li":
                    self.inline.append("  " * max(self.list_depth - 1, 0) + "- ")
            elif tag in _BLOCKS:
                self.block()
            self.list_depth += tag in ("ul", "ol")
            self._add(el.text)
            for child in el:
                self.walk(child, inside_main)
                if tag == "tr" and child.tag in ("td", "th"):
                    self.inline.append(" | ")
            self.list_depth -= tag in ("ul", "ol")
            if tag == "tr" and self.inline and self.inline[-1] == " | ":
                self.inline.pop()
            if tag in _BLOCKS or tag in ("li", "tr"):
                self.block(gap=tag not in ("li", "tr"))
        self._add(el.tail)

    @staticmethod
    def _dropped(el, tag: str, inside_main: bool) -> bool:
        if tag in _DROP or (tag in _CHROME and not inside_main):
            return True
        return el.get("role", "").lower() in _DROP_ROLES or el.get("hidden") is not None

    def _add(self, text: str | None) -> None:
        if text:
            self.inline.append(text)

    def block(self, gap: bool = True) -> None:
        """End the running paragraph (or list item, or table row) as one line."""
        gap = gap and not self.list_depth  # list items stay one block
        raw = "".join(self.inline)
        indent = raw[: len(raw) - len(raw.lstrip(" "))] if raw.lstrip(" ").startswith("- ") else ""
        line = " ".join(raw.split())
        self.inline = []
        if line and line not in ("-", "|"):
            self._line(indent + ("\\" + line if _MARKDOWN_SIGNS.match(line) else line), gap)
        elif gap and self.lines and self.lines[-1]:
            self.lines.append("")  # the end of a list or table is the end of a paragraph too

    def _line(self, line: str, gap: bool) -> None:
        if gap and self.lines and self.lines[-1] != "":
            self.lines.append("")
        self.lines.append(line)
        if gap:
            self.lines.append("")

    def text(self) -> str:
        self.block()
        return re.sub(r"\n{3,}", "\n\n", "\n".join(self.lines)).strip("\n")
