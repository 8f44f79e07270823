"""Trains a preset from scratch on its real data and writes a preset folder (any Keras backend, one or more devices).

A run is a function of its request (preset, seed, epochs, backend, devices): the data order and the dropout
randomness of each epoch are drawn from (seed, epoch), and every finished epoch is checkpointed, so a run
killed at any point and resumed ends with the weights of an uninterrupted one.
"""
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np

from training.batches import ArrayBatches
from training.checkpoint import Checkpoint
from training.model_card import write_model_card
from training.recipes import RECIPES
from zoo.core.errors import ZooError
from zoo.core.folders import check_output_folder, sha256, write_folder
from zoo.core.tokenizers import save_tokenizer
from zoo.models import MODEL_CLASSES
from zoo.presets import HELD_OUT, METADATA_VERSION, write_held_out


def make_deterministic(seed):
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    elif keras.backend.backend() == "torch":
        import torch

        torch.use_deterministic_algorithms(True)


def distribute(data_parallel, batch_size):
    """Spreads each global batch over `data_parallel` devices with keras.distribution, on one host or, where the
    KERAS_DISTRIBUTION_* variables name several processes, across them; returns the devices used, this process's
    index and the process count."""
    if data_parallel is None:
        return [default_device()], 0, 1
    if keras.backend.backend() != "jax":
        raise ZooError(f"--data-parallel needs the jax backend (keras.distribution), not {keras.backend.backend()}")
    if data_parallel < 1:
        raise ZooError(f"--data-parallel must be at least 1, not {data_parallel}")
    if batch_size % data_parallel:
        raise ZooError(f"--data-parallel {data_parallel} must divide the global batch of {batch_size} evenly")
    import jax

    if os.environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES"):
        keras.distribution.initialize()  # the addresses, process count and this process's id come from the environment
    devices = keras.distribution.list_devices()
    if len(devices) < data_parallel:
        raise ZooError(f"--data-parallel {data_parallel} asks for more devices than the {len(devices)} here ({', '.join(map(str, devices))})")
    # Each process gives its own part of the batch (`EpochBatches.shard`), so Keras must not shard the data again.
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices[:data_parallel], auto_shard_dataset=False))
    return [str(device) for device in devices[:data_parallel]], jax.process_index(), jax.process_count()


def default_device():
    """The device one process trains on (keras.distribution lists devices on jax only)."""
    backend = keras.backend.backend()
    if backend == "jax":
        return str(keras.distribution.list_devices()[0])
    if backend == "torch":
        import torch

        return "cuda:0" if torch.cuda.is_available() else "cpu"
    import tensorflow as tf

    return tf.config.list_logical_devices()[0].name


def build_model(recipe, tokenizer):
    model = MODEL_CLASSES[recipe.model_class](**recipe.task_module.vocabulary_sizes(tokenizer), **recipe.model)
    model.build_for_inputs()
    return model


def config_of(model):
    return {key: value for key, value in model.get_config().items() if key not in ("name", "trainable", "dtype")}


def plain_copy(model, weights=None):
    """A fresh model with `model`'s weights (or `weights`), without optimizer state, on whatever distribution is set."""
    copy = type(model)(**config_of(model))
    copy.build_for_inputs()
    copy.set_weights(model.get_weights() if weights is None else weights)
    return copy


def reseed_dropout(model, seed, epoch):
    """Sets every random generator of the model from (seed, epoch): an epoch's randomness never depends on the ones before."""
    generators = [variable for variable in model.non_trainable_variables if variable.name == "seed_generator_state"]
    for index, generator in enumerate(generators):
        value = int(np.random.default_rng([seed, epoch, index]).integers(1, 2**31))
        generator.assign(keras.ops.convert_to_tensor([value, 0], dtype=generator.dtype))


class EpochState(keras.callbacks.Callback):
    """Before each epoch: its data order and randomness. After it: the history, the time, and a checkpoint."""

    def __init__(self, batches, seed, checkpoint, progress, primary):
        super().__init__()
        self.batches, self.seed, self.checkpoint, self.progress, self.primary = batches, seed, checkpoint, progress, primary

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.set_epoch(epoch)
        reseed_dropout(self.model, self.seed, epoch)
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        history = self.progress["history"]
        for key, value in (logs or {}).items():
            history.setdefault(key, []).append(round(float(value), 4))
        self.progress["epoch_seconds"].append(round(time.perf_counter() - self.started, 1))
        self.progress["epoch_devices"].append(self.checkpoint.request["data_parallel"])
        self.progress["epoch"] = epoch + 1
        self.checkpoint.save(self.model, self.progress, self.primary)


class OneStepInFlight(keras.callbacks.Callback):
    """Reads each step's logs before the next step is dispatched.

    Keras otherwise hands batch ends to a thread pool and keeps dispatching, and with many steps queued XLA's
    in-process all-reduce between host devices stalled for good on busy cores (7 of 8 runs two at a time).
    Handling batch ends here makes Keras run them inline.
    """

    def on_train_batch_end(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass


def compile_model(model, recipe, steps):
    schedule = keras.optimizers.schedules.CosineDecay(recipe.learning_rate, decay_steps=steps, alpha=0.05)
    # Padded targets carry weight 0: loss and accuracy are means over the real tokens only.
    model.compile(
        optimizer=keras.optimizers.Adam(schedule, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight"),
        weighted_metrics=["accuracy"],
    )
    model.optimizer.build(model.trainable_variables)  # so that a checkpoint's optimizer state can load


def train(name, out, epochs=None, seed=0, restart=False, data_parallel=None, allow_device_change=False, command=None):
    """Fits preset `name` and writes config, weights, vocabulary, metadata and model card to the folder `out`."""
    recipe = RECIPES[name]
    epochs = recipe.epochs if epochs is None else epochs
    if epochs < 1:
        raise ZooError(f"--epochs must be at least 1, not {epochs}")
    if not 0 <= seed < 2**32:  # numpy's and Keras' seeding range
        raise ZooError(f"--seed must be from 0 to {2**32 - 1}, not {seed}")
    out = Path(out).resolve()
    check_output_folder(out, "preset")
    code = commit()  # now: the checkout may move while a long run trains
    devices, process, processes = distribute(data_parallel, recipe.batch_size)
    backend = keras.backend.backend()
    request = {"preset": name, "seed": seed, "epochs": epochs, "backend": backend, "devices": devices, "data_parallel": data_parallel or 1, "recipe": recipe.settings()}
    checkpoint = Checkpoint(out.with_name(out.name + ".checkpoint"), request, restart, allow_device_change)
    make_deterministic(seed)
    tokenizer, data = recipe.task_module.prepare(recipe, seed)
    # Validation in full batches too, in order: on several devices every batch must split evenly.
    batches = {"train": data["train"], "validation": ArrayBatches(data["validation"], recipe.batch_size)}
    for split in batches.values():
        split.shard(process, processes)
    model = build_model(recipe, tokenizer)
    compile_model(model, recipe, epochs * len(data["train"]))
    progress = checkpoint.resume(model) or {"epoch": 0, "history": {}, "epoch_seconds": [], "epoch_devices": []}
    if progress["epoch"]:
        print(f"resuming {name} after epoch {progress['epoch']} of {epochs} from {checkpoint.folder}", file=sys.stderr)
    model.fit(
        batches["train"],
        epochs=epochs,
        initial_epoch=progress["epoch"],
        shuffle=False,  # the batches' plan is already shuffled from (seed, epoch); Keras would reshuffle with global state
        validation_data=batches["validation"],
        callbacks=[EpochState(batches["train"], seed, checkpoint, progress, primary=process == 0)] + ([OneStepInFlight()] if data_parallel else []),
        verbose="auto" if sys.stdout.isatty() else 2,
    )
    if data_parallel:
        weights = model.get_weights()  # on every process: across hosts, reading distributed values is collective
        keras.distribution.set_distribution(None)  # evaluation decodes batches of any size, which one device takes
        model = plain_copy(model, weights)
    if process:
        return None  # the first process evaluates and writes the preset
    metrics = recipe.task_module.evaluate(model, tokenizer, seed)
    training = {
        "command": command or f"zoo train {name} --backend {backend} --epochs {epochs} --seed {seed}",
        "backend": backend,
        "devices": devices,
        "data_parallel": data_parallel or 1,
        "epochs": epochs,
        "steps": epochs * len(data["train"]),
        "batch_size": recipe.batch_size,
        "seed": seed,
        "seconds": round(sum(progress["epoch_seconds"]), 1),
        "epoch_seconds": progress["epoch_seconds"],
        "epoch_devices": progress["epoch_devices"],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        "date": datetime.date.today().isoformat(),
        "commit": code,
        "history": progress["history"],
    }
    description = {
        "name": name, "family": recipe.family, "task": recipe.task, "description": recipe.description, "dataset": recipe.dataset,
        "recipe": recipe.settings(), "versions": {"python": sys.version.split()[0], "keras": keras.__version__, "numpy": np.__version__, backend: backend_version()},
    }
    write_folder(out, "preset", lambda folder: write_preset(folder, description, recipe.task_module, model, tokenizer, metrics, training))
    checkpoint.remove()
    return out


# What says what a preset is and how it was trained (its recipe, the versions that trained it): kept when it is refreshed.
DESCRIPTION = ("name", "family", "task", "description", "dataset", "recipe", "versions")


def write_preset(folder, description, task, model, tokenizer, metrics, training):
    """Writes the preset files into `folder`: weights without the optimizer's state, vocabulary, config, the encoded
    held-out inputs, metadata and card."""
    plain_copy(model).save_weights(folder / "model.weights.h5")
    save_tokenizer(tokenizer, folder / "vocab.json")
    (folder / "config.json").write_text(json.dumps({"class_name": type(model).__name__, "config": config_of(model)}, indent=1))
    extras = task.card_extras(model, tokenizer, metrics, folder)
    held_out = task.held_out_inputs(tokenizer, training["seed"])
    if held_out is not None:
        write_held_out(folder / HELD_OUT, held_out)
        extras["held_out_sha256"] = sha256(folder / HELD_OUT)
    metadata = {
        "metadata_version": METADATA_VERSION,
        **description,
        "parameters": int(model.count_params()),
        "weights_sha256": sha256(folder / "model.weights.h5"),
        "max_length": task.MAX_LENGTH,
        "metrics": metrics,
        "training": training,
        **extras,
    }
    (folder / "metadata.json").write_text(json.dumps(metadata, indent=1, ensure_ascii=False))
    write_model_card(folder, metadata)


def commit():
    """The git commit of the code that trained, where there is one: the weights are bit-exact at that commit."""
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def backend_version():
    backend = keras.backend.backend()
    module = __import__({"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[backend])
    return module.__version__
