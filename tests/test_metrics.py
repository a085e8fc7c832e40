"""Retrieval metrics on examples small enough to check by hand."""
from __future__ import annotations

import math

import pytest

from ragqa.retrieve.metrics import best_chunk_per_doc, dcg, evaluate, mrr_at, ndcg_at, percentile, recall_at


def test_ndcg_is_one_when_the_relevant_document_is_first():
    assert ndcg_at({"a": 1}, ["a", "b", "c"], 10) == 1.0


def test_ndcg_discounts_a_relevant_document_at_rank_two_by_log2_of_three():
    assert ndcg_at({"a": 1}, ["b", "a"], 10) == pytest.approx(1 / math.log2(3))


def test_ndcg_ignores_relevant_documents_below_the_cutoff():
    assert ndcg_at({"a": 1}, ["b", "c", "a"], 2) == 0.0


def test_ndcg_rewards_the_higher_grade_first():
    # ideal order: a (2) then b (1) -> 2 + 1/log2(3); reversed: 1 + 2/log2(3)
    relevant = {"a": 2, "b": 1}
    reversed_order = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    assert ndcg_at(relevant, ["a", "b"], 10) == 1.0
    assert ndcg_at(relevant, ["b", "a"], 10) == pytest.approx(reversed_order)


def test_ndcg_with_two_relevant_documents_and_one_found():
    # found at rank 1 only: 1 / (1 + 1/log2(3))
    assert ndcg_at({"a": 1, "b": 1}, ["a", "x"], 10) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_dcg_matches_the_textbook_example():
    expected = 3 + 2 / math.log2(3) + 3 / 2 + 0 + 1 / math.log2(6) + 2 / math.log2(7)
    assert dcg([3, 2, 3, 0, 1, 2]) == pytest.approx(expected)


def test_recall_counts_the_share_of_relevant_documents_found():
    relevant = {"a": 1, "b": 1, "c": 1, "d": 1}
    ranked = ["a", "x", "c", "y", "b"]
    assert recall_at(relevant, ranked, 1) == 0.25
    assert recall_at(relevant, ranked, 3) == 0.5
    assert recall_at(relevant, ranked, 5) == 0.75


def test_recall_ignores_documents_judged_not_relevant():
    assert recall_at({"a": 1, "b": 0}, ["a"], 10) == 1.0


def test_mrr_is_the_inverse_rank_of_the_first_relevant_document():
    assert mrr_at({"a": 1, "b": 1}, ["x", "b", "a"], 10) == 0.5
    assert mrr_at({"a": 1}, ["x"] * 10 + ["a"], 10) == 0.0


def test_evaluate_averages_over_judged_queries_and_a_missing_result_scores_zero():
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 0}}  # q3 has no relevant document: not counted
    results = {"q1": ["a", "x"], "q3": ["c"]}  # q2 returned nothing
    scores = evaluate(qrels, results)
    assert scores == {"ndcg@10": 0.5, "recall@1": 0.5, "recall@5": 0.5, "recall@10": 0.5,
                      "recall@100": 0.5, "mrr@10": 0.5}


def test_evaluate_finds_recall_at_100_deeper_than_10():
    ranked = [f"x{i}" for i in range(50)] + ["a"]
    scores = evaluate({"q": {"a": 1}}, {"q": ranked})
    assert scores["recall@10"] == 0.0 and scores["recall@100"] == 1.0 and scores["ndcg@10"] == 0.0


def test_a_document_split_into_chunks_ranks_as_its_best_chunk():
    assert best_chunk_per_doc([("d1", 0.9), ("d2", 0.8), ("d1", 0.7), ("d3", 0.1)]) == ["d1", "d2", "d3"]


def test_percentile_is_nearest_rank():
    values = [40, 10, 30, 20, 50, 60, 70, 80, 90, 100]
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 100
    assert percentile(values, 10) == 10
    assert percentile([], 50) == 0.0
