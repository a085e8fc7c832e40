"""Fusing the dense and BM25 rankings: pure functions, checked on examples worked out by hand."""
import pytest

from ragqa.fusion import reciprocal_rank_fusion, score_fusion

DENSE = [(1, 0.91), (2, 0.90), (3, 0.10)]
BM25 = [(3, 12.0), (4, 11.0), (1, 2.0)]


def test_rrf_sums_one_over_k_plus_rank_of_each_list():
    # 1: 1/(5+1) + 1/(5+3) = 0.2917; 3: 1/(5+3) + 1/(5+1) = 0.2917 (tie, lower id first); 2: 1/7; 4: 1/7
    fused = reciprocal_rank_fusion([DENSE, BM25], k=5)
    assert [i for i, _ in fused] == [1, 3, 2, 4]
    assert fused[0][1] == pytest.approx(1 / 6 + 1 / 8) and fused[2][1] == pytest.approx(1 / 7)


def test_rrf_weights_favour_one_list():
    assert reciprocal_rank_fusion([DENSE, BM25], k=5, weights=[1, 2])[0][0] == 3


def test_rrf_ignores_the_scale_of_scores_but_score_fusion_uses_their_gaps():
    # Dense can barely tell 1 from 2 (0.91 vs 0.90); BM25 says 3 and 4 are far above 1.
    assert [i for i, _ in score_fusion([DENSE, BM25], weights=[0.5, 0.5])] == [1, 3, 2, 4]
    # 1: 0.5*1 + 0.5*0 = 0.5; 3: 0 + 0.5; 2: 0.5*0.9877 = 0.494; 4: 0.5*0.9 = 0.45
    fused = dict(score_fusion([DENSE, BM25], weights=[0.5, 0.5]))
    assert fused[2] == pytest.approx(0.5 * (0.90 - 0.10) / 0.81) and fused[4] == pytest.approx(0.45)


def test_an_empty_list_contributes_nothing():
    assert score_fusion([DENSE, []]) == score_fusion([DENSE])
    assert reciprocal_rank_fusion([[], BM25]) == reciprocal_rank_fusion([BM25], weights=[1.0])
