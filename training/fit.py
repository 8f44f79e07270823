"""Trains a preset from scratch on its real data and writes a preset folder (any Keras backend)."""
import datetime
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import keras
import numpy as np

from training.model_card import write_model_card
from training.recipes import RECIPES
from zoo.models import MODEL_CLASSES
from serving.tokenizer import save_tokenizer
from zoo.presets import sha256


def make_deterministic(seed):
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    elif keras.backend.backend() == "torch":
        import torch

        torch.use_deterministic_algorithms(True)


def build_model(recipe, tokenizer):
    model = MODEL_CLASSES[recipe.model_class](**recipe.task_module.vocabulary_sizes(tokenizer), **recipe.model)
    model.build_for_inputs()  # BackupAndRestore needs built weights before the first batch
    return model


def train(name, out, epochs=None, seed=0, command=None):
    """Fits preset `name` and writes config, weights, vocabulary, metadata and model card to `out`.

    Progress is backed up every epoch next to `out`, so an interrupted run resumes where it stopped.
    """
    recipe = RECIPES[name]
    epochs = recipe.epochs if epochs is None else epochs
    out = Path(out)
    make_deterministic(seed)
    tokenizer, data = recipe.task_module.prepare(recipe.sequence_length, seed)
    model = build_model(recipe, tokenizer)
    train_data = data["train"]
    batched = isinstance(train_data, keras.utils.PyDataset)  # the task made its own batches
    steps = epochs * (len(train_data) if batched else -(-len(train_data[1]) // recipe.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(recipe.learning_rate, decay_steps=steps, alpha=0.05)
    # Padded targets carry weight 0: loss and accuracy are means over the real tokens only.
    weighted = batched or len(train_data) == 3
    model.compile(
        optimizer=keras.optimizers.Adam(schedule, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight" if weighted else "sum_over_batch_size"),
        weighted_metrics=["accuracy"],
    )
    backup = out.with_name(out.name + ".backup")
    started = time.perf_counter()
    inputs, targets, *weights = (train_data, None) if batched else train_data
    history = model.fit(
        inputs,
        targets,
        sample_weight=weights[0] if weights else None,
        batch_size=None if batched else recipe.batch_size,
        epochs=epochs,
        validation_data=data["validation"],
        callbacks=[keras.callbacks.BackupAndRestore(str(backup), delete_checkpoint=False)],
        verbose=2 if os.environ.get("CI") else "auto",
    )
    seconds = time.perf_counter() - started
    metrics = recipe.task_module.evaluate(model, tokenizer, seed)
    training = {
        "command": command or f"zoo train {name} --backend {keras.backend.backend()} --epochs {epochs} --seed {seed}",
        "backend": keras.backend.backend(),
        "epochs": epochs,
        "seed": seed,
        "seconds": round(seconds, 1),
        "final_loss": round(float(history.history["loss"][-1]), 4) if history.history.get("loss") else None,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        "date": datetime.date.today().isoformat(),
        "history": {key: [round(float(v), 4) for v in values] for key, values in history.history.items()},
    }
    write_preset(out, name, recipe, model, tokenizer, metrics, training)
    shutil.rmtree(backup, ignore_errors=True)
    return out


def write_preset(out, name, recipe, model, tokenizer, metrics, training):
    """Writes the preset into a fresh folder next to `out`, then swaps it in: no half-written preset."""
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    model.save_weights(staging / "model.weights.h5")
    save_tokenizer(tokenizer, staging / "vocab.json")
    config = {key: value for key, value in model.get_config().items() if key not in ("name", "trainable", "dtype")}
    (staging / "config.json").write_text(json.dumps({"class_name": type(model).__name__, "config": config}, indent=1))
    extras = recipe.task_module.card_extras(model, tokenizer, metrics, staging)
    metadata = {
        "name": name,
        "family": recipe.family,
        "task": recipe.task,
        "description": recipe.description,
        "dataset": recipe.dataset,
        "parameters": int(model.count_params()),
        "weights_sha256": sha256(staging / "model.weights.h5"),
        "max_length": recipe.task_module.MAX_LENGTH,
        "metrics": metrics,
        "training": training,
        "recipe": {"model": recipe.model, "batch_size": recipe.batch_size, "learning_rate": recipe.learning_rate, "sequence_length": recipe.sequence_length},
        "versions": {"python": sys.version.split()[0], "keras": keras.__version__, "numpy": np.__version__, keras.backend.backend(): backend_version()},
        **extras,
    }
    (staging / "metadata.json").write_text(json.dumps(metadata, indent=1, ensure_ascii=False))
    write_model_card(staging, metadata)
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)


def backend_version():
    backend = keras.backend.backend()
    module = __import__({"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[backend])
    return module.__version__
