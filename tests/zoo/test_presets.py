import json
import shutil

import h5py
import keras
import numpy as np
import pytest

import zoo
from tests.conftest import BACKEND, PRESETS, once
from training.model_card import write_model_card
from training.recipes import RECIPES
from zoo.core.decoding import rows_of
from zoo.core.errors import ZooError
from zoo.core.folders import MARKER, sha256
from zoo.presets import HELD_OUT, METADATA_VERSION, Preset

DECODING_TASKS = ("translation", "captioning", "question_answering", "speech_recognition")


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_with_checked_weights(name):
    preset = Preset(name)
    model = preset.load_model()
    assert model.count_params() == preset.metadata["parameters"]
    assert np.isfinite([np.abs(keras.ops.convert_to_numpy(weight)).max() for weight in model.weights]).all()


def test_list_presets_names_every_shipped_preset():
    rows = zoo.list_presets()
    assert [row["name"] for row in rows] == [
        "answer_scene_questions", "attention_en_fr_bible", "attention_en_fr_numbers", "attention_iupac_to_smiles", "char_rnn_shakespeare", "interact_gridworld",
        "read_text_lines", "rnn_surname_origin", "sat_fashion_scenes", "sat_molecule_images", "seq2seq_en_fr_bible", "seq2seq_en_fr_numbers",
        "seq2seq_iupac_to_smiles", "seq2seq_walk_instructions", "seq2seq_walk_instructions_length_split", "smiles_rnn_moses", "spell_spoken_numbers",
        "walk_instructions", "walk_instructions_length_split",
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
    preset = Preset(name)
    options = {}
    if preset.metadata["task"] in DECODING_TASKS:
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


@once
@pytest.mark.parametrize("name", PRESETS)
def test_every_card_is_what_todays_writer_makes_of_its_metadata(name, tmp_path):
    write_model_card(tmp_path, Preset(name).metadata)
    assert (tmp_path / "README.md").read_text() == (Preset(name).path / "README.md").read_text()


@once
@pytest.mark.parametrize("name", PRESETS)
def test_presets_are_stored_as_todays_code_stores_them(name):
    """Weights without optimizer state, the metadata's current version, the folder's marker, and for decoders the
    encoded held-out inputs the parity gate decodes, hash-checked like the weights."""
    preset = Preset(name)
    assert preset.metadata["metadata_version"] == METADATA_VERSION and (preset.path / MARKER).is_file()
    with h5py.File(preset.path / "model.weights.h5") as weights:
        assert "optimizer" not in weights
    decodes = preset.metadata["task"] in DECODING_TASKS
    assert (preset.held_out() is not None) == decodes
    if decodes:
        assert rows_of(preset.held_out()) == rows_of(RECIPES[name].task_module.held_out_inputs(preset.tokenizer, preset.metadata["training"]["seed"]))


def test_tampered_held_out_inputs_are_refused(tmp_path):
    folder = shutil.copytree(Preset("sat_fashion_scenes").path, tmp_path / "preset")
    np.savez_compressed(folder / HELD_OUT, inputs=np.zeros((2, 84, 84), np.uint8))
    with pytest.raises(ZooError, match="sha256"):
        Preset(folder).held_out()


def test_a_preset_whose_weights_match_their_hash_but_do_not_load_is_a_one_line_error(tmp_path):
    folder = shutil.copytree(Preset("rnn_surname_origin").path, tmp_path / "preset")
    data = (folder / "model.weights.h5").read_bytes()
    (folder / "model.weights.h5").write_bytes(data[: len(data) // 2])
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["weights_sha256"] = sha256(folder / "model.weights.h5")
    (folder / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ZooError, match="cannot load"):
        Preset(folder).load_model()
