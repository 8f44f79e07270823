"""Pretrained presets: folders of config, weights, vocabulary, metadata and a model card.

A preset is named (`char_rnn_shakespeare`, shipped in `zoo/presets/`) or given as a folder
(what `zoo train` writes). The weights are hash-checked against the metadata before loading.
"""
import hashlib
import json
from pathlib import Path

from zoo.core.errors import ZooError
from zoo.core.tokenizers import load_tokenizer

PRESETS_FOLDER = Path(__file__).parent / "presets"
METADATA_VERSION = 2  # 2: weights without optimizer state, devices and per-epoch times in `training`
FILES = ("config.json", "model.weights.h5", "vocab.json", "metadata.json", "README.md")


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def preset_names():
    return sorted(path.parent.name for path in PRESETS_FOLDER.glob("*/metadata.json"))


class Preset:
    """A preset folder, read and checked; `load_model()` builds the Keras model with its weights."""

    def __init__(self, name_or_dir):
        path = Path(name_or_dir)
        if not path.is_dir():
            path = PRESETS_FOLDER / str(name_or_dir)
        if not path.is_dir():
            raise ZooError(f"no preset or preset folder {str(name_or_dir)!r}; known presets: {', '.join(preset_names())}")
        missing = [name for name in FILES if not (path / name).is_file()]
        if missing:
            raise ZooError(f"preset folder {path} lacks {', '.join(missing)}")
        self.path = path
        self.config = json.loads((path / "config.json").read_text())
        self.metadata = json.loads((path / "metadata.json").read_text())
        self.tokenizer = load_tokenizer(path / "vocab.json")
        self.name = self.metadata["name"]

    def check_weights(self):
        expected = self.metadata["weights_sha256"]
        actual = sha256(self.path / "model.weights.h5")
        if actual != expected:
            raise ZooError(
                f"weights file {self.path / 'model.weights.h5'} has sha256 {actual[:16]}..., the metadata expects "
                f"{expected[:16]}...: the file is corrupted or was replaced; restore it or retrain the preset"
            )

    def build_model(self):
        """The model with fresh weights, built (so that its weights exist) but not loaded."""
        from zoo.models import MODEL_CLASSES

        model = MODEL_CLASSES[self.config["class_name"]](**self.config["config"])
        model.build_for_inputs()
        return model

    def load_model(self):
        self.check_weights()
        model = self.build_model()
        model.load_weights(self.path / "model.weights.h5")
        return model


def load(name_or_dir):
    """The Keras model of a preset, with its pretrained weights, on the current Keras backend."""
    return Preset(name_or_dir).load_model()


def list_presets():
    """Name, family, task, parameter count and headline metrics of each shipped preset."""
    rows = []
    for name in preset_names():
        metadata = json.loads((PRESETS_FOLDER / name / "metadata.json").read_text())
        rows.append({key: metadata[key] for key in ("name", "family", "task", "parameters", "metrics")})
    return rows
