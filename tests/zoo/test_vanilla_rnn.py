import keras
import numpy as np
import pytest

from tests.conftest import BACKEND, run
from zoo.models import VanillaRNN

CONFIGS = {
    "language_model": {"vocab_size": 12, "embedding_dim": 8, "hidden_dim": 16, "num_layers": 2},
    "classifier": {"vocab_size": 12, "embedding_dim": 8, "hidden_dim": 16, "num_layers": 3, "num_classes": 4},
}
TOKENS = np.array([[3, 4, 5, 0, 0], [1, 2, 3, 4, 5]], dtype="int32")


def build(config):
    keras.utils.set_random_seed(1)
    model = VanillaRNN(**config)
    model.build_for_inputs()
    return model


@pytest.mark.parametrize("task", CONFIGS)
def test_output_shapes(task):
    model = build(CONFIGS[task])
    logits = keras.ops.convert_to_numpy(model(TOKENS))
    expected = (2, 5, 12) if task == "language_model" else (2, 4)
    assert logits.shape == expected


@pytest.mark.parametrize("task", CONFIGS)
def test_get_config_round_trip(task):
    model = build(CONFIGS[task])
    clone = VanillaRNN.from_config(model.get_config())
    assert clone.get_config() == model.get_config()


def test_embedding_stddev_sets_the_scale_of_the_first_embeddings():
    """Keras' uniform +-0.05 by default; N(0, stddev^2) when asked, and kept in the config."""
    config = {**CONFIGS["language_model"], "vocab_size": 500, "embedding_dim": 64}
    default, wide = build(config), build({**config, "embedding_stddev": 1.0})
    assert np.abs(keras.ops.convert_to_numpy(default.embedding.embeddings)).max() <= 0.05
    assert keras.ops.convert_to_numpy(wide.embedding.embeddings).std() == pytest.approx(1.0, abs=0.02)
    assert VanillaRNN.from_config(wide.get_config()).embedding_stddev == 1.0


@pytest.mark.parametrize("task", CONFIGS)
def test_keras_file_round_trip(task, tmp_path):
    model = build(CONFIGS[task])
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert isinstance(loaded, VanillaRNN)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(TOKENS)), keras.ops.convert_to_numpy(model(TOKENS)), atol=1e-6)


@pytest.mark.parametrize("task", CONFIGS)
def test_deployment_graph_outputs_are_distinct_tensors(task):
    for graph in build(CONFIGS[task]).deployment_graphs().values():
        assert len({id(output) for output in graph.outputs}) == len(graph.outputs) == 2


@pytest.mark.parametrize("task", CONFIGS)
def test_step_graph_replays_the_sequence_graph(task):
    """Feeding tokens one by one through `step` reaches the state and logits of `sequence`."""
    model = build(CONFIGS[task])
    graphs = model.deployment_graphs()
    whole = graphs["sequence"].predict_on_batch({"tokens": TOKENS[1:]})
    state = np.zeros((1, model.num_layers, model.hidden_dim), "float32")
    for token in TOKENS[1]:
        step = graphs["step"].predict_on_batch({"token": token[None], "state": state})
        state = np.asarray(step["new_state"])
    np.testing.assert_allclose(state, whole["new_state"], atol=1e-6)
    last_logits = np.asarray(whole["logits"])[:, -1] if task == "language_model" else whole["logits"]
    np.testing.assert_allclose(step["logits"], last_logits, atol=1e-5)


def test_padding_does_not_change_the_final_state():
    model = build(CONFIGS["classifier"])
    padded = model.deployment_graphs()["sequence"].predict_on_batch({"tokens": TOKENS[:1]})
    unpadded = model.deployment_graphs()["sequence"].predict_on_batch({"tokens": TOKENS[:1, :3]})
    np.testing.assert_allclose(padded["new_state"], unpadded["new_state"], atol=1e-6)
    np.testing.assert_allclose(padded["logits"], unpadded["logits"], atol=1e-6)


def test_weights_saved_here_load_on_every_other_backend(tmp_path):
    model = build(CONFIGS["language_model"])
    model.save(tmp_path / "model.keras")
    np.save(tmp_path / "expected.npy", keras.ops.convert_to_numpy(model(TOKENS)))
    check = (
        "import keras, numpy as np, sys, zoo.models; from pathlib import Path; folder = Path(sys.argv[1]);"
        f"tokens = np.array({TOKENS.tolist()}, dtype='int32');"
        "logits = keras.ops.convert_to_numpy(keras.saving.load_model(folder / 'model.keras')(tokens));"
        "np.testing.assert_allclose(logits, np.load(folder / 'expected.npy'), atol=1e-6)"
    )
    for other in {"tensorflow", "jax", "torch"} - {BACKEND}:
        run("-c", check, str(tmp_path), backend=other)
