import numpy as np

from zoo.core.decoding import FIRST_CANDIDATE, candidates


def full_log_softmax(logits):
    shifted = logits.astype("float64") - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def test_candidates_are_each_rows_likeliest_ids_with_exact_log_probabilities():
    logits = np.random.default_rng(0).normal(size=(6, 500)).astype("float32")
    finished = np.array([False, False, True, False, False, True])
    ids, log_probs = candidates(logits, finished, 5)
    reference = full_log_softmax(logits)
    reference[:, :FIRST_CANDIDATE] = -np.inf
    for row in np.flatnonzero(~finished):
        assert set(ids[row]) == set(np.argsort(-reference[row])[:5])
        np.testing.assert_allclose(log_probs[row], reference[row, ids[row]], atol=1e-6)
    # A finished hypothesis only pads, at no cost.
    assert (ids[finished, 0] == 0).all() and (log_probs[finished, 0] == 0).all() and np.isneginf(log_probs[finished, 1:]).all()
    assert candidates(logits, finished, 1)[0][:, 0].tolist() == [int(np.argmax(row)) if not done else 0 for row, done in zip(reference, finished)]
