import keras
import numpy as np

from tests.conftest import assert_round_trips
from zoo.core.audio import padded_frames
from zoo.models import ListenAttendSpell
from zoo.runner import KerasRunner

RNG = np.random.default_rng(0)
UTTERANCES = [RNG.normal(0, 1, (length, 8)).astype("float32") for length in (29, 5)]
TARGET_IN = np.array([[1, 3, 4], [1, 5, 0]], dtype="int32")


def build():
    keras.utils.set_random_seed(2)
    model = ListenAttendSpell(10, mel_bins=8, pyramid_levels=2, embedding_dim=8, encoder_units=6, decoder_units=12, attention_units=5)
    model.build_for_inputs()
    return model


def test_get_config_and_keras_file_round_trip(tmp_path):
    model = build()
    assert_round_trips(model, {"frames": padded_frames(UTTERANCES, 4), "target_in": TARGET_IN}, tmp_path)


def test_the_pyramid_shortens_time_and_zero_frames_are_padding():
    """Four times fewer positions for two levels, a position real where its first frame is, and more zero frames
    after an utterance change nothing."""
    model = build()
    assert model.contract()["graphs"]["encoder"]["tensors"]["frames"] == {"role": "audio"}
    assert model.contract()["audio"] == {"mel_bins": 8, "window_seconds": 0.025, "hop_seconds": 0.01, "frame_multiple": 4}
    runner = KerasRunner(model)
    memory = runner.run("encoder", {"frames": padded_frames(UTTERANCES, 4)})
    longer = runner.run("encoder", {"frames": padded_frames(UTTERANCES, 4, at_least=48)})
    assert memory["encoder_outputs"].shape == (2, 8, 12) and longer["encoder_outputs"].shape == (2, 12, 12)
    np.testing.assert_array_equal(memory["source_mask"].sum(axis=1), [8, 2])  # ceil(29 / 4), ceil(5 / 4)
    np.testing.assert_allclose(longer["initial_state"], memory["initial_state"], atol=1e-6)
    np.testing.assert_allclose(longer["encoder_outputs"][:, :8], memory["encoder_outputs"], atol=1e-6)
    # Each row's state is its own utterance's: rows do not mix, and two utterances start the speller apart.
    reordered = runner.run("encoder", {"frames": padded_frames(UTTERANCES[::-1], 4)})["initial_state"]
    np.testing.assert_allclose(reordered, memory["initial_state"][::-1], atol=1e-6)
    assert not np.allclose(memory["initial_state"][0], memory["initial_state"][1], atol=1e-3)
