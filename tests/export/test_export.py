import json

import numpy as np
import onnx
import pytest

from export.parity import BACKENDS, DECODING_TIE, compare_decodings, decodings, failures, parity_cases
from zoo.core.decoding import BOS_ID, EOS_ID
from serving.artifact import read_manifest
from tests.conftest import DECODE_LIMIT, DECODE_LIMITS, PRESETS, assert_one_line_error, once, zoo_cli
from zoo.presets import sha256


@once
@pytest.mark.parametrize("name", PRESETS)
def test_artifact_is_complete_and_checked(artifacts, name):
    folder = artifacts[name]
    manifest = read_manifest(folder)
    assert manifest["preset"] == name and manifest["opset"] == 17
    encoder_decoder = manifest["task"] in ("translation", "captioning")
    assert set(manifest["graphs"]) == ({"encoder", "decoder_step"} if encoder_decoder else {"sequence", "step"})
    for graph in manifest["graphs"].values():
        onnx.checker.check_model(str(folder / graph["onnx"]), full_check=True)
        assert all(tensor["shape"][0] == "batch" for tensor in graph["inputs"] + graph["outputs"])
    if manifest["task"] == "captioning":
        assert manifest["graphs"]["encoder"]["inputs"] == [{"name": "image", "shape": ["batch", 84, 84, 1], "dtype": "float32"}]
        assert manifest["attention_grid"] == [6, 6] and manifest["image"]["size"] == 84
        # tf2onnx leaves the 36 grid positions unnamed-dynamic; the grid shape comes from the manifest.
        assert {"name": "attention", "shape": ["batch", "time"], "dtype": "float32"} in manifest["graphs"]["decoder_step"]["outputs"]
    else:
        first_graph, token_input = ("encoder", "source") if encoder_decoder else ("sequence", "tokens")
        assert manifest["graphs"][first_graph]["inputs"] == [{"name": token_input, "shape": ["batch", "time"], "dtype": "int32"}]
    for relative, digest in manifest["files"].items():
        assert sha256(folder / relative) == digest
    assert (folder / "saved_model" / "saved_model.pb").is_file()
    assert not folder.with_name(folder.name + ".partial").exists()


@once
@pytest.mark.parametrize("name", PRESETS)
def test_parity_gate_passes_on_every_backend(artifacts, name):
    """The export's gate, run here on every backend; encoder-decoders decode part of their held-out set
    (`zoo parity` decodes all of it: minutes on torch)."""
    manifest = read_manifest(artifacts[name])
    report = manifest["parity"]
    candidates = {row["candidate"] for row in report["rows"]}
    assert {"keras-tensorflow", "keras-jax", "keras-torch", "savedmodel"} <= candidates
    assert report["passed"], failures(report)
    outputs = {output["name"] for graph in manifest["graphs"].values() for output in graph["outputs"]}
    assert {row["tensor"] for row in report["rows"]} == outputs
    if manifest["max_target_length"]:
        assert {(row["decoding"], row["candidate"]) for row in report["decoding"]["rows"]} == {
            (f"beam{width}", f"keras-{backend}") for width in (1, 4) for backend in BACKENDS
        }
        assert all(row["sentences"] == DECODE_LIMITS.get(name, DECODE_LIMIT) for row in report["decoding"]["rows"])
    if "attention" in outputs:
        assert set(report["attention_invariants"]) == candidates | {"onnxruntime-cpu"}


@once
def test_parity_cases_cover_batches_lengths_and_padding(artifacts):
    cases = parity_cases(read_manifest(artifacts["char_rnn_shakespeare"]))
    sequence = {label: inputs["tokens"] for label, (graph, inputs) in cases.items() if graph == "sequence"}
    assert {tokens.shape for tokens in sequence.values()} == {(b, t) for b in (1, 3, 64) for t in (1, 7, 300)}
    assert (sequence["sequence.b64.t300"] == 0).any() and (sequence["sequence.b64.t300"][0] != 0).all()


def first_choice_decoder(lead):
    """A decoder whose first token is id 3 by `lead` (log-probability) over id 4, then the end."""

    def run(graph, inputs):
        if graph == "encoder":
            return {"initial_state": np.zeros((len(inputs["source"]), 1), "float32")}
        logits = np.tile([0.0, 0.0, 0.0, 1.0, 1.0 - lead, -5.0], (len(inputs["previous_token"]), 1))
        logits[inputs["previous_token"] != BOS_ID, EOS_ID] = 10.0
        return {"logits": logits, "new_state": inputs["state"]}

    return run


@pytest.mark.parametrize("lead, near_ties", [(-DECODING_TIE / 100, 1), (-0.1, 0)])
def test_a_decoding_that_differs_passes_only_at_a_near_tie(lead, near_ties):
    """Greedy decoding picks 3 by a 1e-6 lead in one runtime and 4 in the other: that is fp32 noise. Picking 4
    by a 0.1 lead is not."""
    source = np.ones((1, 1), "int32")
    expected, other = decodings(first_choice_decoder(DECODING_TIE / 100), source, 4), decodings(first_choice_decoder(lead), source, 4)
    assert (expected[1]["ids"].tolist(), other[1]["ids"].tolist()) == ([[3]], [[4]])
    assert compare_decodings(expected[1], other[1]) == (1, near_ties)
    assert compare_decodings(expected[1], expected[1]) == (0, 0)


@once
def test_parity_gate_fails_on_a_wrong_graph(artifacts, tmp_path):
    """An ONNX graph whose logits are off by 1e-3 must fail, and the CLI must exit non-zero."""
    import shutil

    folder = shutil.copytree(artifacts["rnn_surname_origin"], tmp_path / "artifact")
    model = onnx.load(str(folder / "step.onnx"))
    head_bias = next(t for t in model.graph.initializer if onnx.numpy_helper.to_array(t).shape == (18,))
    head_bias.CopyFrom(onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(head_bias) + 1e-3, head_bias.name))
    onnx.save(model, str(folder / "step.onnx"))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["step.onnx"] = sha256(folder / "step.onnx")
    (folder / "manifest.json").write_text(json.dumps(manifest))
    result = zoo_cli("parity", str(folder), "--backends", "tensorflow", check=False)
    assert "FAIL" in result.stdout
    assert_one_line_error(result, "step/logits")


@once
def test_export_of_an_unknown_preset_leaves_nothing(tmp_path):
    result = zoo_cli("export", "no_such_preset", "--out", str(tmp_path / "out"), check=False)
    assert_one_line_error(result, "no_such_preset")
    assert list(tmp_path.iterdir()) == []


@once
def test_export_refuses_unknown_formats_and_foreign_folders(tmp_path):
    assert_one_line_error(zoo_cli("export", "rnn_surname_origin", "--out", str(tmp_path / "a"), "--formats", "onnx,tflite", check=False), "tflite")
    (tmp_path / "mine").mkdir()
    assert_one_line_error(zoo_cli("export", "rnn_surname_origin", "--out", str(tmp_path / "mine"), check=False), "not an artifact")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


@once
def test_parity_refuses_unknown_backends(artifacts):
    assert_one_line_error(zoo_cli("parity", str(artifacts["rnn_surname_origin"]), "--backends", "mxnet", check=False), "mxnet")
