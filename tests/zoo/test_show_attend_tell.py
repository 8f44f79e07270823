import keras
import numpy as np
import pytest

from tests.conftest import assert_round_trips
from zoo.core.decoding import beam_search
from zoo.models import ShowAttendTell
from zoo.runner import KerasRunner

TARGET_IN = np.array([[1, 3, 4, 5, 6], [1, 7, 8, 0, 0]], dtype="int32")
IMAGES = np.random.default_rng(0).uniform(0, 1, (2, 84, 84, 1)).astype("float32")


def build(**options):
    keras.utils.set_random_seed(2)
    model = ShowAttendTell(10, channels=16, embedding_dim=8, decoder_units=24, attention_units=8, **options)
    model.build_for_inputs()
    return model


def test_get_config_and_keras_file_round_trip(tmp_path):
    model = build(attention_penalty=0.5, dark_ink=True)
    assert_round_trips(model, {"image": IMAGES, "target_in": TARGET_IN}, tmp_path)


def test_decoder_step_replays_teacher_forcing_over_a_6x6_grid():
    model = build()
    runner = KerasRunner(model)
    encoded = runner.run("encoder", {"image": IMAGES})
    assert encoded["annotations"].shape == (2, 36, 16) and encoded["initial_state"].shape == (2, 48) and encoded["projected_keys"].shape == (2, 36, 8)
    state, steps = encoded["initial_state"], []
    for t in range(TARGET_IN.shape[1]):
        memory = {"annotations": encoded["annotations"], "projected_keys": encoded["projected_keys"]}
        outputs = runner.run("decoder_step", {"previous_token": TARGET_IN[:, t], "state": state, **memory})
        state = outputs["new_state"]
        steps.append(outputs["logits"])
        np.testing.assert_allclose(outputs["attention"].sum(axis=-1), 1.0, atol=1e-6)
        assert (outputs["attention"] > 0).all()
    expected = keras.ops.convert_to_numpy(model({"image": IMAGES, "target_in": TARGET_IN}))
    np.testing.assert_allclose(np.stack(steps, axis=1), expected, atol=1e-5)


def test_doubly_stochastic_penalty_is_added_in_training_only():
    """With the learning rate at 0, training losses differ by the penalty alone; evaluation has none."""
    inputs, targets = {"image": IMAGES, "target_in": TARGET_IN}, np.roll(TARGET_IN, -1, axis=1)
    trained, evaluated = {}, {}
    for penalty in (0.0, 100.0):
        model = build(attention_penalty=penalty)
        model.compile(optimizer=keras.optimizers.SGD(0.0), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        trained[penalty] = model.train_on_batch(inputs, targets)
        evaluated[penalty] = model.evaluate(inputs, targets, verbose=0)
    assert evaluated[100.0] == pytest.approx(evaluated[0.0], rel=1e-5) and trained[0.0] == pytest.approx(evaluated[0.0], rel=1e-5)
    # 5 and 3 real steps spread over 36 positions: sum_i (1 - sum_t a_ti)^2 >= 36 - 2T + T^2 / 36, 28.5 on average.
    assert trained[100.0] - trained[0.0] >= 100 * 28.4


def test_greedy_caption_attention_rows_follow_the_tokens():
    result = beam_search(KerasRunner(build()), IMAGES[:1], max_length=6)[0]
    assert len(result["ids"]) <= 6 and result["attention"].shape == (min(len(result["ids"]) + 1, 6), 36)


def test_dark_ink_reads_the_inverted_image():
    """The same weights give a dark-ink drawing the memory the plain model gives its negative."""
    plain, dark = build(), build(dark_ink=True)
    dark.set_weights(plain.get_weights())
    expected, _ = plain.encode(1.0 - IMAGES)
    memory, _ = dark.encode(IMAGES)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(memory["annotations"]), keras.ops.convert_to_numpy(expected["annotations"]), atol=1e-6)
    assert not np.allclose(keras.ops.convert_to_numpy(plain.encode(IMAGES)[0]["annotations"]), keras.ops.convert_to_numpy(expected["annotations"]))


def test_a_text_line_gives_a_wide_grid():
    model = build(image_size=[28, 336])
    line = np.random.default_rng(1).uniform(0, 1, (1, 28, 336, 1)).astype("float32")
    result = beam_search(KerasRunner(model), line, max_length=4)[0]
    assert result["attention"].shape[1] == 2 * 24 and model.grid_shape == (2, 24)
    assert model.contract()["attention_grid"] == [2, 24] and model.contract()["image"] == {"height": 28, "width": 336, "channels": 1}
    assert ShowAttendTell.from_config(model.get_config()).image_shape == (28, 336)


@pytest.mark.parametrize("column_units", [0, 6])
def test_a_column_reader_lets_the_first_column_see_the_end_of_the_line(column_units):
    model = build(image_size=[28, 336], column_units=column_units)
    line = np.random.default_rng(1).uniform(0, 1, (1, 28, 336, 1)).astype("float32")
    changed = line.copy()
    changed[:, :, -14:] = 0.0
    runner = KerasRunner(model)
    first = [runner.run("encoder", {"image": image})["annotations"] for image in (line, changed)]
    assert first[0].shape == ((1, 24, 12) if column_units else (1, 48, 16))
    assert model.contract()["attention_grid"] == ([1, 24] if column_units else [2, 24])
    # Without the reader a column sees about 40 pixels; with it, the backward GRU carries the line's end to the start.
    assert (np.abs(first[0][0, 0] - first[1][0, 0]).max() > 0) == bool(column_units)
    assert ShowAttendTell.from_config(model.get_config()).get_config() == model.get_config()
