import keras
import numpy as np
import pytest

from tests.conftest import assert_round_trips
from tests.zoo.test_decoding import full_log_softmax
from zoo.core.decoding import Decoder, beam_search
from zoo.core.tokenizers import BOS_ID, EOS_ID, PAD_ID
from zoo.models import AttentionSeq2Seq, Seq2Seq
from zoo.runner import KerasRunner

CLASSES = {"Seq2Seq": Seq2Seq, "AttentionSeq2Seq": AttentionSeq2Seq}
ENCODERS = {"bidirectional GRU": {}, "LSTM": {"encoder_cell": "lstm", "bidirectional": False}}
SOURCE = np.array([[3, 4, 5, 2, 0, 0], [6, 7, 3, 4, 5, 2]], dtype="int32")
TARGET_IN = np.array([[1, 3, 4, 5], [1, 6, 7, 8]], dtype="int32")


def build(name, encoder="bidirectional GRU"):
    keras.utils.set_random_seed(2)
    model = CLASSES[name](10, 12, embedding_dim=8, encoder_units=16, decoder_units=24, **ENCODERS[encoder])
    model.build_for_inputs()
    return model


def teacher_forced_log_probs(model, source, ids):
    """log p(ids[t] | ids[:t], source) for every position, from the teacher-forced model."""
    target_in = np.array([[BOS_ID] + ids[:-1]], dtype="int32")
    logits = keras.ops.convert_to_numpy(model({"source": source, "target_in": target_in}))[0]
    return full_log_softmax(logits)[np.arange(len(ids)), ids]


@pytest.mark.parametrize("name", CLASSES)
@pytest.mark.parametrize("encoder", ENCODERS)
def test_get_config_and_keras_file_round_trip(name, encoder, tmp_path):
    model = build(name, encoder)
    assert_round_trips(model, {"source": SOURCE, "target_in": TARGET_IN}, tmp_path)


@pytest.mark.parametrize("name", CLASSES)
@pytest.mark.parametrize("encoder", ENCODERS)
def test_decoder_step_replays_teacher_forcing(name, encoder):
    model = build(name, encoder)
    runner = KerasRunner(model)
    encoded = runner.run("encoder", {"source": SOURCE})
    memory = {name: encoded[output] for name, output in Decoder(runner.graphs).memory.items()}
    state, steps = encoded["initial_state"], []
    for t in range(TARGET_IN.shape[1]):
        outputs = runner.run("decoder_step", {"previous_token": TARGET_IN[:, t], "state": state, **memory})
        state = outputs["new_state"]
        steps.append(outputs["logits"])
    expected = keras.ops.convert_to_numpy(model({"source": SOURCE, "target_in": TARGET_IN}))
    np.testing.assert_allclose(np.stack(steps, axis=1), expected, atol=1e-5)
    assert ("attention" in outputs) == (name == "AttentionSeq2Seq")


def test_attention_is_a_distribution_over_unpadded_source_only():
    runner = KerasRunner(build("AttentionSeq2Seq"))
    encoded = runner.run("encoder", {"source": SOURCE})
    memory = {name: encoded[name] for name in ("encoder_outputs", "source_mask", "projected_keys")}
    attention = runner.run("decoder_step", {"previous_token": TARGET_IN[:, 0], "state": encoded["initial_state"], **memory})["attention"]
    np.testing.assert_allclose(attention.sum(axis=-1), 1, atol=1e-6)
    assert (attention[0, 4:] == 0).all() and (attention[0, :4] > 0).all()


@pytest.mark.parametrize("name", CLASSES)
def test_deployment_graph_outputs_are_distinct_tensors(name):
    for graph in build(name).deployment_graphs().values():
        assert len({id(output) for output in graph.outputs}) == len(graph.outputs)


@pytest.mark.parametrize("name", CLASSES)
@pytest.mark.parametrize("width", [1, 4])
def test_beam_search_scores_are_the_model_log_probabilities(name, width):
    """Each result's score is the length-normalised log-probability the model gives its tokens."""
    model = build(name)
    results = beam_search(KerasRunner(model), SOURCE, max_length=6, beam_width=width, length_penalty=1.0)
    for row, result in enumerate(results):
        ids = result["ids"] + ([EOS_ID] if len(result["ids"]) < 6 else [])
        log_probs = teacher_forced_log_probs(model, SOURCE[row : row + 1], ids)
        assert result["score"] == pytest.approx(log_probs.sum() / len(ids), abs=1e-4)
        if width == 1:  # greedy: every token is the most likely one given its prefix, padding and start excluded
            target_in = np.array([[BOS_ID] + ids[:-1]], dtype="int32")
            logits = keras.ops.convert_to_numpy(model({"source": SOURCE[row : row + 1], "target_in": target_in}))[0]
            logits[:, [PAD_ID, BOS_ID]] = -np.inf
            assert list(logits.argmax(axis=-1)) == ids
        if name == "AttentionSeq2Seq":
            assert result["attention"].shape == (len(ids), SOURCE.shape[1])
