import numpy as np
import pytest

from benchmarks.__main__ import Recorder
from export.parity import held_out_inputs
from serving.artifact import Artifact
from tests.conftest import once
from zoo.core import decoding
from zoo.core.contract import EXPORTED_KINDS
from zoo.core.decoding import FIRST_CANDIDATE, Decoder, Without, beam_search, candidates, rows_of, take


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


@once
@pytest.mark.parametrize("name", ["attention_en_fr_numbers", "sat_fashion_scenes"])
def test_ended_rows_stay_in_the_step_batch_until_a_quarter_has_ended_and_change_no_bit(artifacts, name, monkeypatch):
    artifact = Artifact(artifacts[name])
    sources = held_out_inputs(artifact)
    sources = take(sources, np.arange(min(64, rows_of(sources))))
    graphs = Decoder(artifact.graphs)
    for width in (1, 4):
        decoded, sizes = {}, {}
        for share in (1.0, decoding.KEEP_ENDED_ROWS_DOWN_TO):  # 1.0: cut at every end
            monkeypatch.setattr(decoding, "KEEP_ENDED_ROWS_DOWN_TO", share)
            recorder = Recorder(Without(artifact, *EXPORTED_KINDS))
            decoded[share] = beam_search(recorder, sources, artifact.manifest["max_target_length"], beam_width=width)
            sizes[share] = [len(inputs[graphs.previous_token]) for graph, inputs in recorder.calls if graph == graphs.step]
        eager, lazy = decoded.values()
        for expected, actual in zip(eager, lazy):
            assert expected["ids"] == actual["ids"] and expected["score"] == actual["score"]
            assert np.array_equal(expected["attention"], actual["attention"])
        eager_sizes, lazy_sizes = sizes.values()
        cuts = [(before, after) for before, after in zip(lazy_sizes, lazy_sizes[1:]) if after != before]
        assert cuts and all(after <= 0.75 * before for before, after in cuts), lazy_sizes
        assert any(0.75 * before < after < before for before, after in zip(eager_sizes, eager_sizes[1:])), eager_sizes
