import json

import keras
import numpy as np

from tests.conftest import assert_one_line_error, once, zoo_cli
from training.classification import MAX_LENGTH
from training.data import surnames
from training.fit import make_deterministic
from zoo.core.tokenizers import CharTokenizer
from zoo.models import VanillaRNN


def fit_surnames(seed, epochs):
    """A small classifier on 1,024 real training surnames; returns the loss history and the weights."""
    names, labels = surnames.load_splits()["train"]
    names, labels = names[::9][:1024], labels[::9][:1024]
    tokenizer = CharTokenizer.fit(names)
    make_deterministic(seed)
    model = VanillaRNN(tokenizer.vocab_size, embedding_dim=16, hidden_dim=32, num_layers=1, num_classes=len(surnames.LOCALES))
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(tokenizer.encode_batch(names, MAX_LENGTH), labels, batch_size=64, epochs=epochs, verbose=0, shuffle=True)
    return history.history["loss"], [np.asarray(weight) for weight in model.get_weights()]


def test_short_training_run_lowers_the_loss():
    losses, _ = fit_surnames(seed=0, epochs=4)
    assert losses[-1] < 0.85 * losses[0], losses


def test_training_is_deterministic_for_a_seed():
    _, first = fit_surnames(seed=3, epochs=1)
    _, second = fit_surnames(seed=3, epochs=1)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


@once
def test_zoo_train_writes_a_loadable_preset(tmp_path):
    """A full epoch of real data takes a minute, so this runs once, on the fastest backend here."""
    out = tmp_path / "surnames"
    zoo_cli("train", "rnn_surname_origin", "--backend", "jax", "--epochs", "1", "--out", str(out))
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["training"]["backend"] == "jax" and metadata["training"]["epochs"] == 1
    assert {"README.md", "config.json", "model.weights.h5", "vocab.json", "confusion_matrix.png"} <= {p.name for p in out.iterdir()}
    evaluated = json.loads(zoo_cli("evaluate", str(out), "--backend", "jax", "--json").stdout)
    assert evaluated["metrics"]["test_accuracy"] == metadata["metrics"]["test_accuracy"]


def test_zoo_train_refuses_an_unknown_preset():
    assert_one_line_error(zoo_cli("train", "no_such_preset", check=False), "no_such_preset")


@once
def test_zoo_train_says_how_to_get_missing_fashion_mnist(tmp_path, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path))
    result = zoo_cli("train", "sat_fashion_scenes", "--out", str(tmp_path / "sat"), check=False)
    assert_one_line_error(result, "apt-get install dataset-fashion-mnist", str(tmp_path))
    assert not (tmp_path / "sat").exists()
