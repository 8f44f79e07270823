import functools
import os

import keras
import numpy as np
import pytest

from benchmarks.jax_decoding import jitted_decoding
from zoo.core.audio import padded_frames
from zoo.core.decoding import beam_search
from zoo.core.tokenizers import EOS_ID
from zoo.models import AskAttendAnswer, AttentionSeq2Seq, ListenAttendSpell, ShowAttendTell
from zoo.runner import KerasRunner

pytestmark = pytest.mark.skipif(os.environ.get("KERAS_BACKEND") != "jax", reason="the jitted decoder is JAX code")

MAX_LENGTH = 8
SOURCE = np.array([[3, 4, 5, 2, 0, 0], [6, 7, 3, 4, 5, 2], [9, 2, 0, 0, 0, 0], [8, 3, 7, 7, 2, 0], [5, 9, 4, 6, 8, 2]], dtype="int32")
IMAGES = np.random.default_rng(0).uniform(0, 1, (4, 84, 84, 1)).astype("float32")


@functools.cache  # one model per family for both widths: building it eagerly takes longer than decoding
def translator():
    keras.utils.set_random_seed(2)
    model = AttentionSeq2Seq(10, 12, embedding_dim=8, encoder_units=16, decoder_units=24)
    model.build_for_inputs()
    # Random logits are nearly flat and never end; peaked ones with a likelier end give hypotheses of every length.
    model.output_projection.kernel.assign(30 * model.output_projection.kernel)
    model.output_projection.bias.assign(np.eye(12, dtype="float32")[EOS_ID])
    return model, {"source": SOURCE}


@functools.cache
def captioner():
    keras.utils.set_random_seed(2)
    model = ShowAttendTell(10, channels=16, embedding_dim=8, decoder_units=24, attention_units=8)
    model.build_for_inputs()
    return model, {"image": IMAGES}


@functools.cache
def question_answerer():
    keras.utils.set_random_seed(2)
    model = AskAttendAnswer(10, 10, question_units=8, channels=16, embedding_dim=8, decoder_units=24, attention_units=8)
    model.build_for_inputs()
    return model, {"image": IMAGES, "question": SOURCE[:4]}


@functools.cache
def speller():
    keras.utils.set_random_seed(2)
    model = ListenAttendSpell(12, mel_bins=8, pyramid_levels=2, embedding_dim=8, encoder_units=8, decoder_units=24, attention_units=8)
    model.build_for_inputs()
    model.output_projection.bias.assign(np.eye(12, dtype="float32")[EOS_ID])  # as for the translator: ends at varied lengths
    frames = [np.random.default_rng(length).normal(0, 1, (length, 8)).astype("float32") for length in (30, 5, 17)]
    return model, {"frames": padded_frames(frames, 4)}


@pytest.mark.parametrize("build", [translator, captioner, question_answerer, speller])
@pytest.mark.parametrize("width", [1, 3])
def test_jitted_decoding_is_the_numpy_beam_search(build, width):
    model, source = build()
    expected = beam_search(KerasRunner(model), source, MAX_LENGTH, width)
    decoded = jitted_decoding(model, MAX_LENGTH, width)(source)
    assert [result["ids"] for result in decoded] == [result["ids"] for result in expected]
    np.testing.assert_allclose([result["score"] for result in decoded], [result["score"] for result in expected], atol=1e-4)
