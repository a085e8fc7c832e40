"""The MCP server's tools, resources and refusals, through the SDK's real client connected in-process (no
subprocess): paging, PDF pages, symlinks out of the notes folder, an empty index, the ingest switch. The path
check itself is pure logic, tested exhaustively below."""
from __future__ import annotations

import zlib

import pytest
from mcp.shared.exceptions import MCPError

from ragqa.errors import NoteNotFoundError
from ragqa.ingest.pipeline import ingest_folder
from ragqa.mcp import server as mcp_server
from ragqa.mcp.paths import checked_path, from_uri
from ragqa.mcp.server import make_server
from ragqa.mcp.tools import EMPTY, Shared
from ragqa.mcp.warmup import Warmup
from ragqa.served import Served

from helpers.mcp_client import McpSession
from helpers.settings import make_settings


def pdf(pages: list[str]) -> bytes:
    """A valid PDF with one line of text on each page (Helvetica)."""
    n = len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n)).encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n)]
    font = 3 + 2 * n
    for i, text in enumerate(pages):
        stream = zlib.compress(b"BT /F1 12 Tf 72 720 Td (%s) Tj ET" % text.encode())
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> "
                       b">> /Contents %d 0 R >>" % (font, 4 + 2 * i))
        objects.append(b"<< /Filter /FlateDecode /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def connect(settings, ingest=None) -> McpSession:
    served = Served(settings, ingest=ingest)
    return McpSession(make_server(Shared(served, Warmup(served))))


@pytest.fixture(scope="module")
def library(tmp_path_factory, minilm):
    """A notes folder with a note, a two-page PDF, and symlinks (a folder and a note) to files outside it,
    ingested once (ingest follows the symlinks), served in-process: (session, settings, tmp)."""
    tmp = tmp_path_factory.mktemp("library")
    notes, outside = tmp / "notes", tmp / "outside"
    notes.mkdir()
    outside.mkdir()
    (notes / "plain.md").write_text("# Plain\n\nSourdough rises with a wild yeast starter.\n", encoding="utf-8")
    (notes / "paper.pdf").write_bytes(pdf(["Attention weighs every token of the input.",
                                           "Transformers stack attention layers with feed forward blocks."]))
    (outside / "secret.md").write_text("# Secret\n\nThe safe's code is 4711.\n", encoding="utf-8")
    (notes / "linked").symlink_to(outside, target_is_directory=True)
    (notes / "shortcut.md").symlink_to(outside / "secret.md")
    settings = make_settings(tmp, notes)
    report = ingest_folder(settings, minilm)
    assert {"linked/secret.md", "shortcut.md", "paper.pdf"} <= set(report.added), report.summary()
    session = connect(settings)
    yield session, settings, tmp
    session.close()


def test_read_note_gives_one_page_of_a_pdf_or_all_of_it(library):
    mcp = library[0]
    failed, whole = mcp.call("read_note", path="paper.pdf")
    assert not failed and whole["pages"] == [1, 2] and whole["kind"] == "pdf"
    assert "Attention weighs" in whole["text"] and "feed forward" in whole["text"]
    failed, second = mcp.call("read_note", path="paper.pdf", page=2)
    assert not failed and "feed forward" in second["text"] and "Attention weighs" not in second["text"]
    failed, message = mcp.call("read_note", path="paper.pdf", page=9)
    assert failed and "its pages are 1-2" in message


@pytest.mark.parametrize("path", ["linked/secret.md", "shortcut.md", "ragqa://default/linked/secret.md"])
def test_a_note_indexed_through_a_symlink_out_of_the_folder_is_not_served(library, path):
    failed, message = library[0].call("read_note", path=path)
    assert failed and "symlink out of the notes folder" in message
    assert "4711" not in message and str(library[2]) not in message


def test_resources_are_listed_a_page_at_a_time(library, monkeypatch):
    mcp = library[0]
    monkeypatch.setattr(mcp_server, "PAGE_SIZE", 2)
    pages, cursor = [], None
    while True:
        listed = mcp.run(mcp.client.list_resources, cursor=cursor)
        pages.append([r.uri for r in listed.resources])
        cursor = listed.next_cursor
        if cursor is None:
            break
    assert [len(p) for p in pages] == [2, 2]
    assert sorted(uri for page in pages for uri in page) == ["ragqa://default/linked/secret.md", "ragqa://default/paper.pdf",
                                      "ragqa://default/plain.md", "ragqa://default/shortcut.md"]
    with pytest.raises(Exception, match="bad cursor"):
        mcp.run(mcp.client.list_resources, cursor="not-a-cursor")


def test_a_resource_out_of_the_folder_cannot_be_read(library):
    mcp = library[0]
    assert "wild yeast" in mcp.run(mcp.client.read_resource, "ragqa://default/plain.md").contents[0].text
    for uri in ["ragqa://default/linked/secret.md", "ragqa://default/..%2Foutside%2Fsecret.md",
                "ragqa://other/plain.md"]:
        with pytest.raises(MCPError) as refused:
            mcp.run(mcp.client.read_resource, uri)
        assert "4711" not in str(refused.value) and str(library[2]) not in str(refused.value)


def test_bad_arguments_get_one_line(library):
    failed, message = library[0].call("search_notes", query="yeast", k=0)
    assert failed and message == "bad arguments: k: Input should be greater than or equal to 1"
    failed, message = library[0].call("search_notes", query="yeast", collection="papers")
    assert failed and message == "no collection named 'papers': this server has default (or 'all')"


def test_search_notes_takes_the_http_apis_date_filters(library):
    mcp = library[0]
    failed, hits = mcp.call("search_notes", query="yeast starter", modified_after="2000-01-01")
    assert not failed and "plain.md" in [hit["path"] for hit in hits]
    assert mcp.call("search_notes", query="yeast starter", created_after="2099-01-01") == (False, [])
    failed, message = mcp.call("search_notes", query="yeast", created_before="someday")
    assert failed and message == ("bad arguments: created_before: Value error, 'someday' is not a date: write it "
                                  "as YYYY-MM-DD")


def test_an_empty_index_gets_one_clear_line(tmp_path):
    (tmp_path / "notes").mkdir()
    mcp = connect(make_settings(tmp_path))
    try:
        for tool, arguments in [("search_notes", {"query": "anything"}), ("ask_notes", {"question": "Why?"}),
                                ("read_note", {"path": "a.md"})]:
            assert mcp.call(tool, **arguments) == (True, EMPTY)
        failed, status = mcp.call("index_status")
        assert not failed and status["collections"]["default"] == {
            "error": "no index yet: run `ragqa ingest --collection default`"}
        assert mcp.run(mcp.client.list_resources).resources == []
    finally:
        mcp.close()


def test_ingest_runs_from_a_tool_only_when_mcp_allow_ingest_is_true(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "idea.md").write_text("# Idea\n\nA note about compost.\n", encoding="utf-8")
    closed = connect(make_settings(tmp_path, notes))  # mcp.allow_ingest: false, the default
    try:
        assert "ingest_notes" not in {t.name for t in closed.run(closed.client.list_tools).tools}
        failed, message = closed.call("ingest_notes")
        assert failed and message.startswith("no tool named 'ingest_notes'")
    finally:
        closed.close()
    assert not (tmp_path / "index").exists()
    opened = connect(make_settings(tmp_path, notes, mcp={"allow_ingest": True}), ingest=ingest_folder)
    try:
        failed, report = opened.call("ingest_notes")
        assert not failed and report["added"] == 1
        failed, rows = opened.call("search_notes", query="compost")
        assert not failed and rows[0]["path"] == "idea.md"
    finally:
        opened.close()


@pytest.mark.parametrize("given", [
    "", " ", "../a.md", "a/../../b.md", "/etc/passwd", "~/notes/a.md", "~root", "a\x00.md", "a\nb.md", "a\\b.md",
    "..\\a.md", "C:/x.md", "c:x.md", "file:///etc/passwd", "a//b.md", "a/./b.md", ".", "..", "a/", "x" * 1100,
])
def test_a_path_that_could_leave_the_notes_folder_is_refused_before_any_lookup(given):
    with pytest.raises(NoteNotFoundError, match="is not a note's path"):
        checked_path(given)


@pytest.mark.parametrize(("given", "expected"), [("garden/tomatoes.md", "garden/tomatoes.md"), ("./rust.md", "rust.md"),
                                             ("notes 2024/a b.md", "notes 2024/a b.md"),
                                             ("..hidden.md", "..hidden.md")])
def test_a_plain_relative_path_is_taken_literally(given, expected):
    assert checked_path(given) == expected


def test_a_path_still_url_encoded_is_refused_as_every_face_refuses_it():
    with pytest.raises(NoteNotFoundError, match="is not a note's path"):
        checked_path("%2e%2e/a.md")  # the rule of ragqa.note_paths: never decoded, never taken for a name


@pytest.mark.parametrize("uri", ["ragqa://default/..%2Fa.md", "ragqa://default/%2e%2e/%2e%2e/etc/passwd",
                                 "ragqa://default/a%00.md", "ragqa://default/%2Fetc%2Fpasswd", "http://default/a.md",
                                 "ragqa:///a.md", "ragqa://default/a.md?x=1", "ragqa://default/a%5C..%5Cb.md"])
def test_a_uri_is_decoded_once_then_checked_like_a_path(uri):
    with pytest.raises(NoteNotFoundError):
        from_uri(uri)
