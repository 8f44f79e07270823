import keras
import numpy as np

from tests.conftest import assert_round_trips
from zoo.core.decoding import beam_search
from zoo.models import AskAttendAnswer
from zoo.runner import KerasRunner

IMAGES = np.random.default_rng(0).uniform(0, 1, (2, 84, 84, 1)).astype("float32")
QUESTIONS = np.array([[3, 4, 5, 2], [6, 7, 2, 0]], dtype="int32")
TARGET_IN = np.array([[1, 3, 4], [1, 5, 0]], dtype="int32")


def build():
    keras.utils.set_random_seed(2)
    model = AskAttendAnswer(12, 10, question_units=16, channels=16, embedding_dim=8, decoder_units=24, attention_units=8, attention_penalty=0.0)
    model.build_for_inputs()
    return model


def test_get_config_and_keras_file_round_trip(tmp_path):
    model = build()
    assert_round_trips(model, {"image": IMAGES, "question": QUESTIONS, "target_in": TARGET_IN}, tmp_path)


def test_the_encoder_declares_an_image_and_a_question_and_padding_changes_nothing():
    model = build()
    encoder = model.contract()["graphs"]["encoder"]["tensors"]
    assert encoder["image"] == {"role": "image"} and encoder["question"] == {"role": "tokens", "vocabulary": "source"}
    assert model.contract()["vocabularies"] == {"source": 12, "target": 10}
    runner = KerasRunner(model)
    state = runner.run("encoder", {"image": IMAGES, "question": QUESTIONS})["initial_state"]
    padded = runner.run("encoder", {"image": IMAGES, "question": np.pad(QUESTIONS, [(0, 0), (0, 3)])})["initial_state"]
    np.testing.assert_allclose(padded, state, atol=1e-6)
    # The state comes from the question alone; the image reaches the answer only through attention.
    other_image = runner.run("encoder", {"image": IMAGES[::-1], "question": QUESTIONS})["initial_state"]
    np.testing.assert_allclose(other_image, state, atol=1e-6)
    assert not np.allclose(runner.run("encoder", {"image": IMAGES, "question": QUESTIONS[::-1]})["initial_state"], state)


def test_decoding_takes_both_inputs_and_refuses_a_missing_one():
    import pytest

    from zoo.core.errors import ZooError

    runner = KerasRunner(build())
    results = beam_search(runner, {"image": IMAGES, "question": QUESTIONS}, max_length=4, beam_width=2)
    assert len(results) == 2 and all(result["attention"].shape[1] == 36 for result in results)
    with pytest.raises(ZooError, match="question"):
        beam_search(runner, {"image": IMAGES}, max_length=4)
