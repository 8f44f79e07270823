import dataclasses
import os

import keras
import numpy as np
import pytest

from benchmarks.training_step import hand_written_step
from training.fit import compile_model
from training.recipes import RECIPES
from zoo.models import VanillaRNN

pytestmark = pytest.mark.skipif(os.environ.get("KERAS_BACKEND") != "jax", reason="the hand-written step is JAX code")


def test_the_hand_written_step_takes_the_same_steps_as_keras():
    """Without dropout, its losses over three steps match Keras' (the first checks the forward pass, the next two the
    gradients and the Adam updates) on windows of the char RNN's shape."""
    recipe = dataclasses.replace(RECIPES["char_rnn_shakespeare"], model={"embedding_dim": 8, "hidden_dim": 32, "num_layers": 2, "dropout": 0.0, "embedding_stddev": 1.0})
    keras.utils.set_random_seed(0)
    model = VanillaRNN(vocab_size=20, **recipe.model)
    model.build_for_inputs()
    reference = hand_written_step(model, recipe)
    compile_model(model, recipe, steps=100)
    tokens = np.random.default_rng(0).integers(1, 20, (3, 4, 17)).astype("int32")
    for batch in tokens:
        inputs, targets = batch[:, :-1], batch[:, 1:]
        assert reference(inputs, targets) == pytest.approx(model.train_on_batch(inputs, targets, return_dict=True)["loss"], rel=1e-5)
