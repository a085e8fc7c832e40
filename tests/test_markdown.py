"""Parsing notes: front matter, titles, headings, code fences, wikilinks, embeds."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ragqa.ingest.decode import decode_bytes, looks_binary
from ragqa.ingest.documents import SkipFile
from ragqa.ingest.loaders import load_file, parse_text
from ragqa.ingest.markdown import parse_markdown
from ragqa.ingest.scan import FoundFile, scan_folder

from helpers.data import need_shared


def sections_of(doc):
    return [(s.headings, s.text) for s in doc.sections]


# --- front matter -------------------------------------------------------------

def test_front_matter_tags_are_normalised_to_a_unique_list():
    for raw in ("[a, '#b', a]", "a, b, a", "'a #b a'", "'#a,#b'", "\n  - a\n  - '#b'\n  - a"):
        doc = parse_markdown(f"---\ntags: {raw}\n---\nbody", "n.md")
        assert doc.tags == ["a", "b"], raw


def test_front_matter_dates_become_iso_strings_and_scalars_are_kept():
    doc = parse_markdown("---\ncreated: 2024-09-16\nmodified: 2024-10-01 10:30:00\npublish: true\n"
                         "aliases: [Home page]\nparent: ['[[x]]']\n---\nHi", "index.md")
    assert doc.metadata["created"] == "2024-09-16"
    assert doc.metadata["modified"].startswith("2024-10-01T10:30")
    assert doc.metadata["publish"] is True
    assert doc.metadata["aliases"] == ["Home page"]
    assert "parent" not in doc.metadata  # nested values are not metadata we search by
    assert sections_of(doc) == [([], "Hi")]


@pytest.mark.parametrize("block", ["title: [unclosed\n", "- just\n- a list\n", "when: 2024-13-45\n"])
def test_broken_front_matter_is_kept_as_text_with_a_warning(block):
    doc = parse_markdown(f"---\n{block}---\nBody text", "n.md")
    assert doc.metadata == {}
    assert len(doc.warnings) == 1 and "front matter" in doc.warnings[0] and "\n" not in doc.warnings[0]
    assert "Body text" in doc.sections[0].text
    assert block.split()[-1].strip("[]") in doc.sections[0].text


def test_unclosed_front_matter_is_text_not_a_crash():
    doc = parse_markdown("---\ntitle: x\nno closing line", "n.md")
    assert "no closing line" in doc.sections[0].text and doc.warnings


def test_empty_front_matter_is_dropped_silently():
    doc = parse_markdown("---\n---\nJust text", "n.md")
    assert sections_of(doc) == [([], "Just text")] and doc.warnings == []


# --- titles and headings ----------------------------------------------------------

def test_title_prefers_front_matter_then_first_h1_then_file_stem():
    assert parse_markdown("---\ntitle: From YAML\n---\n# Heading\nx", "a/b.md").title == "From YAML"
    assert parse_markdown("intro\n# First H1\nx\n# Second", "a/b.md").title == "First H1"
    assert parse_markdown("no headings", "a/my note.md").title == "my note"


def test_headings_nest_and_a_new_h1_resets_the_path():
    text = "# Guide\nintro\n## Setup\ns\n### Linux\nl\n## Use\nu\n# Appendix\na\n## Notes\nn"
    assert sections_of(parse_markdown(text, "g.md")) == [
        ([], "intro"), (["Setup"], "s"), (["Setup", "Linux"], "l"), (["Use"], "u"),
        (["Appendix"], "a"), (["Appendix", "Notes"], "n")]


def test_title_h1_is_not_repeated_in_the_breadcrumb_but_other_h1s_are():
    doc = parse_markdown("---\ntitle: Plan\n---\n# Plan\np\n# Other\no", "p.md")
    assert sections_of(doc) == [([], "p"), (["Other"], "o")]


def test_text_before_the_first_heading_is_its_own_section_and_empty_sections_are_dropped():
    doc = parse_markdown("lead in\n\n## A\n\n   \n## B\nbee\n### C\n", "n.md")
    assert sections_of(doc) == [([], "lead in"), (["B"], "bee")]


def test_hash_lines_inside_fenced_code_are_code_not_headings():
    text = "## Script\n```bash\n# install\npip install x\n\n# run\n```\n~~~\n# also code\n~~~\nafter"
    doc = parse_markdown(text, "n.md")
    assert [s.headings for s in doc.sections] == [["Script"]]
    assert "```bash\n# install\npip install x\n\n# run\n```" in doc.sections[0].text
    assert "# also code" in doc.sections[0].text and doc.sections[0].text.endswith("after")


def test_wikilinks_inside_code_are_left_verbatim():
    doc = parse_markdown("```\n[[not a link]]\n```", "n.md")
    assert "[[not a link]]" in doc.sections[0].text and doc.links == []


def test_hashtag_without_space_is_not_a_heading():
    assert parse_markdown("#tag at line start\ntext", "n.md").sections[0].headings == []


def test_windows_line_endings_are_understood():
    doc = parse_markdown("---\r\ntitle: T\r\n---\r\n## A\r\nx\r\n", "n.md")
    assert doc.title == "T" and sections_of(doc) == [(["A"], "x")]


# --- links and embeds ---------------------------------------------------------------

@pytest.mark.parametrize(("link", "shown", "target"), [
    ("[[Note]]", "Note", "Note"),
    ("[[Note|an alias]]", "an alias", "Note"),
    ("[[./Concepts/Zettelkasten|Zettelkasten]]", "Zettelkasten", "Concepts/Zettelkasten"),
    ("[[../Concepts/Rust Traits.md]]", "Rust Traits", "Concepts/Rust Traits"),
    ("[[Note#Section]]", "Note > Section", "Note"),
    ("[[Note#Section|see here]]", "see here", "Note"),
    ("[[Note#^block-id]]", "Note", "Note"),
])
def test_wikilinks_read_as_text_and_record_their_target(link, shown, target):
    doc = parse_markdown(f"See {link} now.", "n.md")
    assert doc.sections[0].text == f"See {shown} now."
    assert doc.links == [target]


def test_links_are_recorded_in_order_including_headings():
    doc = parse_markdown("## About [[A]]\n[[B]] then [[C|c]]", "n.md")
    assert doc.links == ["A", "B", "C"] and doc.sections[0].headings == ["About A"]


def test_embeds_are_removed_from_the_text_but_count_as_links_and_images_keep_their_alt_text():
    doc = parse_markdown("Pic ![[../assets/x.png|300]] and ![[Other note]].\n"
                         "![A diagram|600](https://e.org/d.svg) ![](x.png)", "n.md")
    text = doc.sections[0].text
    assert "![[" not in text and "x.png" not in text and "Other note" not in text
    assert "A diagram" in text and "600" not in text
    assert doc.links == ["assets/x.png", "Other note"]  # as Obsidian's backlinks count embeds


# --- loading text files ---------------------------------------------------------------

def found(path: Path, kind: str) -> FoundFile:
    info = path.stat() if path.exists() else None
    return FoundFile(rel=path.name, path=path, size=info.st_size if info else 1,
                     mtime_ns=info.st_mtime_ns if info else 0, kind=kind)


def test_text_files_are_one_section_titled_by_file_name(tmp_path):
    path = tmp_path / "todo list.txt"
    path.write_text("# not a heading\nbuy milk\n", encoding="utf-8")
    doc = load_file(found(path, "text"))
    assert (doc.kind, doc.title, sections_of(doc)) == ("text", "todo list", [([], "# not a heading\nbuy milk")])


def test_non_utf8_notes_are_decoded_with_a_warning(tmp_path):
    path = tmp_path / "old.md"
    path.write_bytes("# Café\nNaïve façade déjà vu, crème brûlée.".encode("cp1252"))
    doc = load_file(found(path, "markdown"))
    assert doc.title == "Café" and "crème brûlée" in doc.sections[0].text
    assert len(doc.warnings) == 1 and "not UTF-8" in doc.warnings[0]


def test_utf8_bom_is_stripped_silently():
    assert decode_bytes(b"\xef\xbb\xbf---\ntitle: x\n---\n") == ("---\ntitle: x\n---\n", None)


def test_decoding_never_fails():
    text, warning = decode_bytes(bytes(range(256)))
    assert len(text) >= 128 and warning


def test_binary_content_in_a_text_file_is_skipped(tmp_path):
    path = tmp_path / "photo.md"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    assert looks_binary(path.read_bytes()) and not looks_binary("plain ünïcode text\n".encode())
    with pytest.raises(SkipFile, match="binary content in a text file"):
        load_file(found(path, "markdown"))


def test_a_file_that_vanished_after_the_scan_is_skipped(tmp_path):
    with pytest.raises(SkipFile, match="file disappeared during ingest"):
        load_file(found(tmp_path / "gone.md", "markdown"))


def test_a_note_with_only_front_matter_is_indexed_by_its_title_aliases_and_tags(tmp_path):
    path = tmp_path / "recall.md"
    path.write_text("---\ntitle: Recall\naliases: [sensitivity]\ntags: [ml]\n---\n![[pic.png]]\n", encoding="utf-8")
    doc = load_file(found(path, "markdown"))
    assert [s.text for s in doc.sections] == ["Recall. Also known as: sensitivity. Tags: ml."]


def test_a_note_with_only_embeds_and_no_front_matter_is_skipped_with_a_reason(tmp_path):
    path = tmp_path / "pictures.md"
    path.write_text("![[pic.png]]\n\n![[other.png]]\n", encoding="utf-8")
    with pytest.raises(SkipFile, match="no text to index"):
        load_file(found(path, "markdown"))


def test_plain_text_keeps_everything():
    assert parse_text("  \n", "x.txt").sections == []


# --- properties -------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_markdown_never_crashes_on_any_text(text):
    doc = parse_markdown(text, "any.md")
    assert isinstance(doc.title, str) and all(s.text.strip() for s in doc.sections)
    assert all("\n" not in w for w in doc.warnings)


WORD = st.from_regex(r"[A-Za-z0-9éß一]{1,8}", fullmatch=True)
LINE = st.one_of(
    st.lists(WORD, min_size=1, max_size=6).map(lambda ws: ("plain", " ".join(ws))),
    # A heading whose section is empty is dropped, so each one gets a body line.
    st.tuples(st.integers(1, 6), WORD, WORD).map(lambda t: ("heading", "#" * t[0] + f" {t[1]}\n{t[2]}")),
    st.tuples(WORD, WORD).map(lambda t: ("link", f"see [[dir/{t[0]}|{t[1]}]] ok")),
    st.just(("embed", "![[picture.png]]")),
    st.just(("fence", "```")),
    st.just(("blank", "")),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(LINE, max_size=30))
def test_parse_markdown_loses_no_words_besides_embeds_and_link_targets(lines):
    doc = parse_markdown("\n".join(line for _, line in lines), "n.md")
    seen = " ".join([doc.title, *(h for s in doc.sections for h in s.headings), *(s.text for s in doc.sections)])
    for kind, line in lines:
        if kind in ("plain", "heading"):
            expected = line.lstrip("#").split()
        elif kind == "link":
            expected = [line.split("|")[1].split("]")[0]]
        else:
            continue
        for word in expected:
            assert word in seen


# --- the real vault ------------------------------------------------------------------

@pytest.fixture(scope="module")
def vault_docs():
    files, _ = scan_folder(need_shared("notes-lesleylai-digital-garden"), ["**/*.md"], [], 10 << 20)
    return [parse_markdown(decode_bytes(f.path.read_bytes())[0], f.rel) for f in files]


def test_every_vault_note_parses_with_list_tags_and_no_embeds_left(vault_docs):
    assert len(vault_docs) == 1186
    assert all(isinstance(d.metadata.get("tags", []), list) for d in vault_docs)
    assert all(all(isinstance(t, str) and not t.startswith("#") for t in d.tags) for d in vault_docs)
    assert not any("![[" in s.text for d in vault_docs for s in d.sections)
    assert sum(len(d.links) for d in vault_docs) > 1000
    assert not any(d.warnings for d in vault_docs)


def test_vault_home_page_reads_as_prose(vault_docs):
    home = next(d for d in vault_docs if d.path == "index.md")
    assert home.title == "Home"
    assert "Concepts/Zettelkasten" in home.links
    assert "my little corner of the web where" in home.sections[0].text
    assert not re.search(r"\[\[|\]\]", " ".join(s.text for s in home.sections))
