import shutil

import keras
import numpy as np
import pytest

import zoo
from zoo.core.errors import ZooError
from tests.conftest import BACKEND, PRESETS
from zoo.presets import Preset


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_with_checked_weights(name):
    preset = Preset(name)
    model = preset.load_model()
    assert model.count_params() == preset.metadata["parameters"]
    assert np.isfinite([np.abs(keras.ops.convert_to_numpy(weight)).max() for weight in model.weights]).all()


def test_list_presets_names_every_shipped_preset():
    rows = zoo.list_presets()
    assert [row["name"] for row in rows] == [
        "attention_en_fr_bible", "attention_en_fr_numbers", "char_rnn_shakespeare", "rnn_surname_origin", "sat_fashion_scenes", "seq2seq_en_fr_bible", "seq2seq_en_fr_numbers",
    ]
    assert all(row["parameters"] > 0 and row["metrics"] for row in rows)


def test_tampered_weights_are_refused(tmp_path):
    folder = shutil.copytree(Preset("rnn_surname_origin").path, tmp_path / "preset")
    weights = folder / "model.weights.h5"
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ZooError, match="sha256"):
        zoo.load(folder)


def test_unknown_preset_names_the_known_ones():
    with pytest.raises(ZooError, match="rnn_surname_origin"):
        zoo.load("no_such_preset")


def test_folder_missing_files_is_refused(tmp_path):
    folder = shutil.copytree(Preset("rnn_surname_origin").path, tmp_path / "preset")
    (folder / "vocab.json").unlink()
    with pytest.raises(ZooError, match="vocab.json"):
        zoo.load(folder)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_reproduces_its_model_card(name):
    """The card's test metrics, recomputed on this backend from the shipped weights.

    Decoders are checked once, greedy only: beam metrics take minutes more (`zoo evaluate` recomputes
    them), and the parity gate shows every backend decodes the same greedy and beam tokens. Captioners
    are scored on the shipped sample of test scenes (the full test set needs the Debian package).
    """
    from training.recipes import RECIPES

    preset = Preset(name)
    options = {}
    if preset.metadata["task"] in ("translation", "captioning"):
        if BACKEND != "tensorflow":
            pytest.skip("decoding the test set per backend is slow; the parity gate shows every backend decodes the same tokens")
        options["beam_widths"] = (1,)
    if "sample_metrics" in preset.metadata:
        options["split"] = "sample"
    measured = RECIPES[name].task_module.evaluate(preset.load_model(), preset.tokenizer, preset.metadata["training"]["seed"], **options)
    expected = preset.metadata.get("sample_metrics", preset.metadata["metrics"])
    assert measured.keys() <= expected.keys()
    for key, value in measured.items():
        if isinstance(value, float):
            assert value == pytest.approx(expected[key], abs=1e-3), key
