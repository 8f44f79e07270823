import numpy as np

from zoo.core.decoding import top_candidates


def test_top_candidates_rank_like_a_full_stable_sort():
    rng = np.random.default_rng(0)
    totals = rng.normal(size=(32, 4 * 500))
    totals[:, ::3] = -np.inf  # masked ids
    totals[:, -1] = totals.max(axis=1)  # a tie for first place: the lower index goes first
    assert (top_candidates(totals, 5) == np.argsort(-totals, axis=1, kind="stable")[:, :5]).all()
