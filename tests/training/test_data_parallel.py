"""Data parallelism with keras.distribution on two CPU devices of one process (XLA's forced host device count)."""
import json

import numpy as np
import pytest

from tests.conftest import BACKEND, assert_one_line_error, run, zoo_cli
from tests.training.test_fit import kill_when, start_training

pytestmark = pytest.mark.skipif(BACKEND != "jax", reason="keras.distribution runs on jax")
TRAIN = ("train", "rnn_surname_origin", "--backend", "jax")
# Same seed, data and global batch of 64 on one device and on two (32 rows each): the gradients differ only in
# fp32 summation order, which Adam carries into the weights.
FIRST_STEPS = """
import json, os, sys
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
import keras, numpy as np
from training.fit import build_model, compile_model, distribute, make_deterministic
from training.recipes import RECIPES
recipe = RECIPES["rnn_surname_origin"]
distribute(int(sys.argv[1]) or None, recipe.batch_size)
make_deterministic(0)
tokenizer, data = recipe.task_module.prepare(recipe, 0)
model = build_model(recipe, tokenizer)
compile_model(model, recipe, 100)
losses = [float(model.train_on_batch(*data["train"][step])[0]) for step in range(STEPS)]
print(json.dumps({"losses": losses, "weights": [w.ravel().tolist() for w in model.get_weights()]}))
"""
STEPS = 8
LOSS_TOLERANCE, WEIGHT_TOLERANCE = 1e-5, 1e-5


def first_steps(devices):
    """Losses and weights after the first steps on 0 (no distribution) or `devices` devices."""
    result = run("-c", FIRST_STEPS.replace("STEPS", str(STEPS)), str(devices), backend="jax")
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_one_and_two_devices_take_the_same_first_steps():
    one, two = first_steps(0), first_steps(2)
    np.testing.assert_allclose(two["losses"], one["losses"], rtol=0, atol=LOSS_TOLERANCE)
    for a, b in zip(one["weights"], two["weights"]):
        np.testing.assert_allclose(b, a, rtol=0, atol=WEIGHT_TOLERANCE)


def test_a_device_count_that_cannot_share_the_batch_evenly_is_a_one_line_error(tmp_path):
    assert_one_line_error(zoo_cli(*TRAIN, "--data-parallel", "3", "--out", str(tmp_path / "x"), check=False), "--data-parallel 3", "global batch of 64")
    assert_one_line_error(zoo_cli(*TRAIN, "--data-parallel", "0", "--out", str(tmp_path / "x"), check=False), "--data-parallel must be at least 1, not 0")
    assert_one_line_error(zoo_cli(*TRAIN, "--data-parallel", "2", "--backend", "torch", "--out", str(tmp_path / "x"), check=False), "jax backend")


def test_a_checkpoint_written_on_two_devices_resumes_on_one_and_the_preset_passes_the_gate(tmp_path):
    out = tmp_path / "surnames"
    progress = tmp_path / "surnames.checkpoint" / "progress.json"
    kill_when(start_training(out, "--epochs", "2", "--data-parallel", "2"), lambda: progress.is_file())
    assert_one_line_error(zoo_cli(*TRAIN, "--epochs", "2", "--out", str(out), check=False), "data_parallel 2", "--allow-device-change")
    zoo_cli(*TRAIN, "--epochs", "2", "--out", str(out), "--allow-device-change")
    training = json.loads((out / "metadata.json").read_text())["training"]
    assert training["epoch_devices"] == [2, 1] and len(training["history"]["loss"]) == 2
    zoo_cli("export", str(out), "--out", str(tmp_path / "artifact"))
    assert json.loads((tmp_path / "artifact" / "manifest.json").read_text())["parity"]["passed"]
