import json
import os
import signal
import subprocess
import sys
import time

import h5py
import keras
import numpy as np
import pytest

from tests.conftest import REPO, assert_one_line_error, once, zoo_cli
from training.classification import MAX_LENGTH
from training.data import surnames
from training.fit import make_deterministic
from zoo.core.backends import backend_environment
from zoo.core.tokenizers import CharTokenizer
from zoo.models import VanillaRNN

EPOCHS = 3
TRAIN = ("train", "rnn_surname_origin", "--backend", "jax", "--epochs", str(EPOCHS))


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


def weights(folder):
    arrays = {}
    with h5py.File(folder / "model.weights.h5") as file:
        file.visititems(lambda name, item: arrays.__setitem__(name, np.array(item)) if isinstance(item, h5py.Dataset) else None)
    return arrays


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """A real `zoo train` of 3 epochs on jax, the fastest backend here; the reference for the resumed runs."""
    out = tmp_path_factory.mktemp("uninterrupted") / "surnames"
    zoo_cli(*TRAIN, "--out", str(out))
    return out


@once
def test_zoo_train_writes_a_loadable_preset_without_optimizer_state(uninterrupted):
    metadata = json.loads((uninterrupted / "metadata.json").read_text())
    training = metadata["training"]
    assert training["backend"] == "jax" and training["epochs"] == EPOCHS and len(training["history"]["loss"]) == len(training["epoch_seconds"]) == EPOCHS
    assert {"README.md", "config.json", "model.weights.h5", "vocab.json", "confusion_matrix.png", ".attention-zoo.json"} <= {p.name for p in uninterrupted.iterdir()}
    assert not any(name.startswith("optimizer") for name in weights(uninterrupted))
    evaluated = json.loads(zoo_cli("evaluate", str(uninterrupted), "--backend", "jax", "--json").stdout)
    assert evaluated["metrics"]["test_accuracy"] == metadata["metrics"]["test_accuracy"]


def start_training(out, *options):
    """`zoo train rnn_surname_origin` on jax in the background, for 3 epochs unless `options` say otherwise."""
    command = [sys.executable, "-c", "from zoo.cli import main; main()", *TRAIN[:4], *(options or TRAIN[4:]), "--out", str(out)]
    return subprocess.Popen(command, cwd=REPO, env=backend_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_when(process, condition):
    """SIGKILL once `condition()` holds, unless the run ended first."""
    while not condition() and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()


@once
def test_a_run_killed_anywhere_and_resumed_ends_with_the_weights_of_an_uninterrupted_one(uninterrupted, tmp_path):
    """SIGKILL right after the first checkpoint, then after the next, then at a moment left to chance, with a kill
    during a checkpoint write (its half-written temporary file planted); each rerun of the same command resumes,
    and the end is bit-identical."""
    out = tmp_path / "surnames"
    progress = out.with_name("surnames.checkpoint") / "progress.json"
    kill_when(start_training(out), lambda: progress.is_file())
    assert json.loads(progress.read_text())["epoch"] == 1
    kill_when(start_training(out), lambda: json.loads(progress.read_text())["epoch"] == 2)
    (progress.parent / f".{os.getpid()}-epoch-0003.weights.h5").write_bytes(b"\x89HDF\r\n half of a checkpoint")
    started = time.monotonic()
    kill_when(start_training(out), lambda: time.monotonic() - started > 4)
    zoo_cli(*TRAIN, "--out", str(out))
    resumed, reference = weights(out), weights(uninterrupted)
    assert resumed.keys() == reference.keys() and all(np.array_equal(resumed[name], reference[name]) for name in reference)
    history = json.loads((out / "metadata.json").read_text())["training"]
    assert history["history"] == json.loads((uninterrupted / "metadata.json").read_text())["training"]["history"]
    assert len(history["epoch_seconds"]) == EPOCHS and not progress.parent.exists()


@once
def test_a_checkpoint_resumes_only_the_same_request(tmp_path):
    out = tmp_path / "surnames"
    kill_when(start_training(out), lambda: (tmp_path / "surnames.checkpoint" / "progress.json").is_file())
    result = zoo_cli(*TRAIN[:-2], "--epochs", "2", "--out", str(out), "--seed", "1", check=False)
    assert_one_line_error(result, "seed 0", "seed 1", "--restart")
    assert_one_line_error(zoo_cli(*TRAIN, "--out", str(out), "--backend", "torch", check=False), "backend jax", "backend torch", "--restart")
    zoo_cli(*TRAIN[:-2], "--epochs", "1", "--out", str(out), "--restart")
    assert json.loads((out / "metadata.json").read_text())["training"]["epochs"] == 1


@once
def test_train_never_deletes_what_zoo_did_not_write(tmp_path):
    victim = tmp_path / "victim"
    (victim / "sub").mkdir(parents=True)
    (victim / "thesis.tex").write_text("years of work")
    assert_one_line_error(zoo_cli(*TRAIN, "--out", str(victim), check=False), str(victim), "not written by zoo")
    assert (victim / "thesis.tex").read_text() == "years of work" and (victim / "sub").is_dir()
    assert_one_line_error(zoo_cli(*TRAIN, "--out", ".", check=False), "not empty", "not written by zoo")
    assert_one_line_error(zoo_cli(*TRAIN[:-2], "--epochs", "0", "--out", str(tmp_path / "new"), check=False), "--epochs")


@once
def test_a_seed_out_of_range_or_an_out_under_a_file_is_a_one_line_error_that_writes_nothing(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    assert_one_line_error(zoo_cli(*TRAIN, "--seed", "-1", "--out", str(tmp_path / "run"), check=False), "--seed must be from 0 to 4294967295, not -1")
    assert_one_line_error(zoo_cli(*TRAIN, "--out", str(notes / "run"), check=False), f"{notes} is not a folder")
    assert list(tmp_path.iterdir()) == [notes] and notes.read_text() == "mine"


def test_zoo_train_refuses_an_unknown_preset():
    assert_one_line_error(zoo_cli("train", "no_such_preset", check=False), "no_such_preset")


@once
def test_zoo_train_says_how_to_get_missing_fashion_mnist(tmp_path, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path))
    result = zoo_cli("train", "sat_fashion_scenes", "--out", str(tmp_path / "sat"), check=False)
    assert_one_line_error(result, "apt-get install dataset-fashion-mnist", str(tmp_path))
    assert not (tmp_path / "sat").exists()
