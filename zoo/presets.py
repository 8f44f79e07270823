"""Pretrained presets: folders of config, weights, vocabulary, metadata, a model card and held-out inputs.

A preset is named (`char_rnn_shakespeare`, shipped in `zoo/presets/`) or given as a folder
(what `zoo train` writes). The weights and held-out inputs are hash-checked against the metadata before use.
"""
import json
from pathlib import Path

import numpy as np

from zoo.core.errors import ZooError
from zoo.core.folders import sha256
from zoo.core.tokenizers import tokenizer_from_dict

PRESETS_FOLDER = Path(__file__).parent / "presets"
METADATA_VERSION = 2  # 2: weights without optimizer state, held-out inputs, devices and per-epoch times in `training`
FILES = ("config.json", "model.weights.h5", "vocab.json", "metadata.json", "README.md")
# The encoded held-out inputs (token ids, or grey uint8 images) that the parity gate decodes.
HELD_OUT = "held_out.npz"


def write_held_out(path, inputs):
    """Saves encoder inputs: one array as `inputs`, or {encoder input name: array} by name."""
    np.savez_compressed(path, **(inputs if isinstance(inputs, dict) else {"inputs": inputs}))


def read_held_out(path):
    """What `write_held_out` saved: the one array, or {encoder input name: array}."""
    with np.load(path) as arrays:
        return arrays["inputs"] if list(arrays) == ["inputs"] else {name: arrays[name] for name in arrays}


def preset_names():
    return sorted(path.parent.name for path in PRESETS_FOLDER.glob("*/metadata.json"))


def read_json(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ZooError(f"cannot read {path}: {error}") from None


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
        self.config = read_json(path / "config.json")
        self.metadata = read_json(path / "metadata.json")
        self.tokenizer = tokenizer_from_dict(read_json(path / "vocab.json"))
        self.name = self.metadata["name"]

    def checked(self, file, key):
        """The path of `file`, whose sha256 must be the metadata's `key`."""
        path, expected = self.path / file, self.metadata[key]
        actual = sha256(path)
        if actual != expected:
            raise ZooError(f"{path} has sha256 {actual[:16]}..., the metadata expects {expected[:16]}...: the file is corrupted or was replaced; restore it or retrain the preset")
        return path

    def build_model(self):
        """The model with fresh weights, built (so that its weights exist) but not loaded."""
        from zoo.models import MODEL_CLASSES

        model = MODEL_CLASSES[self.config["class_name"]](**self.config["config"])
        model.build_for_inputs()
        return model

    def load_model(self):
        path = self.checked("model.weights.h5", "weights_sha256")
        model = self.build_model()
        try:
            model.load_weights(path)
        except Exception as error:  # h5py and Keras raise many kinds; the file matched its hash, so the preset itself is bad
            raise ZooError(f"cannot load {path}: {str(error).splitlines()[0] if str(error) else type(error).__name__}") from None
        return model

    def held_out(self):
        """The encoded held-out inputs, or None where the preset ships none."""
        if "held_out_sha256" not in self.metadata:
            return None
        return read_held_out(self.checked(HELD_OUT, "held_out_sha256"))


def load(name_or_dir):
    """The Keras model of a preset, with its pretrained weights, on the current Keras backend."""
    return Preset(name_or_dir).load_model()


def list_presets():
    """Name, family, task, parameter count and headline metrics of each shipped preset."""
    rows = []
    for name in preset_names():
        metadata = read_json(PRESETS_FOLDER / name / "metadata.json")
        rows.append({key: metadata[key] for key in ("name", "family", "task", "parameters", "metrics")})
    return rows
