"""`ragqa eval`: retrieval quality on a BEIR-layout folder, through the real pipeline."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragqa.cli import main

from helpers.data import need_shared

CONTRACT = ["ndcg@10", "recall@1", "recall@5", "recall@10", "recall@100", "mrr@10", "p50_ms", "p95_ms", "queries"]

DOCS = {
    "d1": ("Sourdough starter", "A sourdough starter is fed with flour and water every day and kept warm."),
    "d2": ("Volcanoes", "Magma rises through the crust and erupts as lava and ash from volcanoes."),
    "d3": ("Chess openings", "The Sicilian Defence answers e4 with c5 and leads to sharp positions."),
    "d4": ("Honey bees", "Worker bees collect nectar from flowers and turn it into honey inside the hive."),
    "d5": ("Tides", "The gravitational pull of the moon causes the rise and fall of ocean tides."),
}
QUERIES = {
    "q1": ("How do I keep a sourdough starter alive?", {"d1": 1}),
    "q2": ("What comes out of an erupting volcano?", {"d2": 1}),
    "q3": ("How do bees make honey?", {"d4": 1}),
    "q4": ("What causes ocean tides?", {"d5": 2}),
    "q5": ("Who wrote the Odyssey?", {"d9": 1}),  # its only relevant document is not in the corpus
}


def write_beir(folder: Path, docs=DOCS, queries=QUERIES) -> Path:
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, (t, x) in docs.items()), encoding="utf-8")
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": q, "text": t}) + "\n" for q, (t, _) in queries.items()), encoding="utf-8")
    rows = [f"{q}\t{d}\t{g}" for q, (_, rel) in queries.items() for d, g in rel.items()]
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def config(tmp_path, minilm) -> str:
    """MiniLM (the session's already loaded copy), no LLM."""
    path = tmp_path / "config.yaml"
    path.write_text("embedding: {model: all-MiniLM-L6-v2}\nllm: {provider: none}\n", encoding="utf-8")
    return str(path)


def run_eval(capsys, config: str, *args: str) -> tuple[int, str, str]:
    code = main(["--config", config, "eval", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_eval_json_has_the_contract_keys_and_a_perfect_setup_scores_one(tmp_path, capsys, config, mode):
    # Four queries each find their one document first; the fifth's document is absent: every metric is 4/5.
    dataset = write_beir(tmp_path / "tiny")
    code, out, err = run_eval(capsys, config, str(dataset), "--mode", mode, "--json")
    assert code == 0, err
    scores = json.loads(out)
    assert list(scores) == CONTRACT
    assert scores["queries"] == 5
    for metric in CONTRACT[:6]:
        assert scores[metric] == pytest.approx(0.8), metric
    assert 0 < scores["p50_ms"] <= scores["p95_ms"]


def test_eval_scores_one_when_every_query_finds_its_document_first(tmp_path, capsys, config):
    queries = {q: v for q, v in QUERIES.items() if q != "q5"}
    dataset = write_beir(tmp_path / "tiny", queries=queries)
    code, out, _ = run_eval(capsys, config, str(dataset), "--mode", "hybrid", "--json")
    scores = json.loads(out)
    assert code == 0 and scores["queries"] == 4
    assert all(scores[m] == 1.0 for m in CONTRACT[:6])


def test_eval_limit_runs_only_the_first_queries(tmp_path, capsys, config):
    dataset = write_beir(tmp_path / "tiny")
    code, out, _ = run_eval(capsys, config, str(dataset), "--mode", "bm25", "--limit", "2", "--json")
    assert code == 0 and json.loads(out)["queries"] == 2 and json.loads(out)["ndcg@10"] == 1.0


def test_eval_keeps_its_index_and_reuses_it_without_embedding_again(tmp_path, capsys, config):
    dataset = write_beir(tmp_path / "tiny")
    kept = tmp_path / "kept"
    code, first, _ = run_eval(capsys, config, str(dataset), "--mode", "dense", "--index", str(kept))
    assert code == 0 and "5 chunks embedded" in first and "| ndcg@10 | 0.8 |" in first
    code, second, _ = run_eval(capsys, config, str(dataset), "--mode", "dense", "--index", str(kept))
    assert code == 0 and "no new chunks embedded" in second and "| ndcg@10 | 0.8 |" in second


def test_eval_of_a_folder_not_in_beir_layout_is_one_line_naming_what_is_missing(tmp_path, capsys, config):
    (tmp_path / "loose").mkdir()
    code, out, err = run_eval(capsys, config, str(tmp_path / "loose"))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "not in BEIR layout" in err and "corpus.jsonl" in err


def scifact_slice(source: Path, target: Path, queries: int = 50, distractors: int = 150) -> Path:
    """The first `queries` SciFact test queries, their relevant abstracts and every 20th other abstract
    (the same ones every run), written out in BEIR layout: the real data at a size a test can embed."""
    lines = (source / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]
    qrels = [line.split("\t") for line in lines]
    wanted = list(dict.fromkeys(q for q, _, _ in qrels))[:queries]
    relevant = {d for q, d, _ in qrels if q in wanted}
    docs = [json.loads(line) for line in (source / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    others = [d for d in docs if d["_id"] not in relevant][::20][:distractors]
    kept = [d for d in docs if d["_id"] in relevant] + others
    (target / "qrels").mkdir(parents=True)
    (target / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in kept), encoding="utf-8")
    queries_text = {json.loads(line)["_id"]: line for line in
                    (source / "queries.test.jsonl").read_text(encoding="utf-8").splitlines()}
    (target / "queries.jsonl").write_text("".join(queries_text[q] + "\n" for q in wanted), encoding="utf-8")
    (target / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join("\t".join(r) + "\n" for r in qrels if r[0] in wanted),
        encoding="utf-8")
    return target


@pytest.mark.slow
def test_eval_on_real_scifact_data_scores_what_was_measured(tmp_path, capsys, config):
    """Real SciFact abstracts and claims through the real pipeline. The full-corpus parity with the published
    0.645 for MiniLM is in docs/QUALITY.md (bench/quality.py); this slice (~200 abstracts) is what a test can embed in
    under a minute."""
    dataset = scifact_slice(need_shared("scifact"), tmp_path / "slice")
    results = {}
    for mode in ("dense", "bm25", "hybrid"):
        code, out, err = run_eval(capsys, config, str(dataset), "--mode", mode, "--index", str(tmp_path / "kept"),
                                  "--json")
        assert code == 0, err
        results[mode] = json.loads(out)
        assert list(results[mode]) == CONTRACT and results[mode]["queries"] == 50
    got = {mode: results[mode]["ndcg@10"] for mode in SLICE_NDCG}
    print(f"\nSciFact slice nDCG@10: {got}")
    assert all(abs(got[m] - SLICE_NDCG[m]) <= 0.02 for m in got), got  # 0.02: bf16 where the CPU has it


SLICE_NDCG = {"dense": 0.9115, "bm25": 0.799, "hybrid": 0.873}  # measured on this slice with MiniLM and the
# default fusion (RRF k=5, 300 deep), 2026-12-01
