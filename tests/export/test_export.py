import json
import shutil

import numpy as np
import onnx
import pytest

from export.parity import DECODING_TIE, compare_decodings, decodings, failures, parity_cases, traced_graphs
from tests.conftest import BACKENDS, DECODE_LIMITS, FAMILIES, GATED, PRESETS, assert_one_line_error, once, zoo_cli
from zoo.core.contract import EXPORTED_KINDS, Graphs
from zoo.core.folders import MARKER, sha256
from zoo.core.manifest import read_manifest, write_manifest
from zoo.core.tokenizers import BOS_ID, EOS_ID

# The roles each kind of graph declares, inputs then outputs, by preset family.
BEAM = {"beam_parents", "tokens", "step_scores", "runner_up_scores", "hypothesis_scores", "lengths"}


def searches(*memory):
    """The roles of the graphs built around a decoder step that reads these memory roles (with attention where it
    reads any): the candidate step and the searches."""
    attention = {"attention"} if memory else set()
    return {
        "candidate_step": (["tokens", "state", *memory, "candidate_count"], {"state", "candidates", "candidate_log_probs"} | attention),
        "greedy_search": (["state", *memory, "length_limit"], {"tokens", "log_probs"} | attention),
        "beam_search": (["state", *memory, "beam_width", "length_limit"], BEAM | attention),
    }


SEARCH, ATTENTIVE_SEARCH, MASKED_SEARCH = searches(), searches("memory", "keys"), searches("memory", "padding_mask", "keys")
ROLES = {
    "vanilla_rnn": {"sequence": (["tokens"], {"logits", "state"}), "step": (["tokens", "state"], {"logits", "state"})},
    "seq2seq": {"encoder": (["tokens"], {"memory", "padding_mask", "state"}), "decoder_step": (["tokens", "state"], {"logits", "state"}), **SEARCH},
    "attention_seq2seq": {
        "encoder": (["tokens"], {"memory", "padding_mask", "keys", "state"}),
        "decoder_step": (["tokens", "state", "memory", "padding_mask", "keys"], {"logits", "state", "attention"}),
        **MASKED_SEARCH,
    },
    "captioner": {
        "encoder": (["image"], {"memory", "keys", "state"}), "decoder_step": (["tokens", "state", "memory", "keys"], {"logits", "state", "attention"}), **ATTENTIVE_SEARCH,
    },
    "question_answerer": {
        "encoder": (["image", "tokens"], {"memory", "keys", "state"}),
        "decoder_step": (["tokens", "state", "memory", "keys"], {"logits", "state", "attention"}),
        **ATTENTIVE_SEARCH,
    },
    "speller": {
        "encoder": (["audio"], {"memory", "padding_mask", "keys", "state"}),
        "decoder_step": (["tokens", "state", "memory", "padding_mask", "keys"], {"logits", "state", "attention"}),
        **MASKED_SEARCH,
    },
}


@once
@pytest.mark.parametrize("name", PRESETS)
def test_artifact_is_complete_checked_and_declares_every_role(artifacts, name):
    folder = artifacts[name]
    manifest = read_manifest(folder)
    assert manifest["preset"] == name and manifest["opset"] == 17 and manifest["format_version"] == 3
    expected = ROLES[manifest["family"]]
    assert set(manifest["graphs"]) == set(expected)
    for graph_name, graph in manifest["graphs"].items():
        onnx.checker.check_model(str(folder / graph["onnx"]), full_check=True)
        # A decoder step's rows may be several hypotheses of one source, whose memory it takes once.
        once_per_source = graph["kind"] in ("decoder_step", *EXPORTED_KINDS)
        for tensor in graph["inputs"] + graph["outputs"]:
            if tensor["role"] not in ("length_limit", "beam_width", "candidate_count"):
                assert tensor["shape"][0] == ("sources" if once_per_source and tensor["role"] in ("memory", "keys", "padding_mask") else "batch")
        inputs, outputs = expected[graph_name]
        logits = "class_logits" if manifest["task"] == "classification" else "logits"
        assert sorted(tensor["role"] for tensor in graph["inputs"]) == sorted(inputs)
        assert {tensor["role"] for tensor in graph["outputs"]} == {logits if role == "logits" else role for role in outputs}
        assert all(manifest["vocabularies"][tensor["vocabulary"]] > 3 for tensor in graph["inputs"] + graph["outputs"] if "vocabulary" in tensor)
    if manifest["image"]:  # 84 x 84 scenes and worlds, 140 x 140 molecules, 28 x 336 text lines: one grid cell per 14 pixels
        height, width = manifest["image"]["height"], manifest["image"]["width"]
        assert {"name": "image", "role": "image", "shape": ["batch", height, width, 1], "dtype": "float32"} in manifest["graphs"]["encoder"]["inputs"]
        # One row where a column reader reads each column into one annotation (read_text_lines).
        column_reader = json.loads((folder / "preset" / "config.json").read_text())["config"].get("column_units")
        assert manifest["attention_grid"] == [1 if column_reader else height // 14, width // 14] and manifest["image"]["channels"] == 1
    if manifest["audio"]:  # the listener halves time at each of its levels
        config = json.loads((folder / "preset" / "config.json").read_text())["config"]
        assert manifest["audio"] == {"mel_bins": config["mel_bins"], "window_seconds": 0.025, "hop_seconds": 0.01, "frame_multiple": 2 ** config["pyramid_levels"]}
        assert {"name": "frames", "role": "audio", "shape": ["batch", "time", config["mel_bins"]], "dtype": "float32"} in manifest["graphs"]["encoder"]["inputs"]
    assert (manifest["held_out"] is None) == (manifest["max_target_length"] is None)
    for relative, digest in manifest["files"].items():
        assert sha256(folder / relative) == digest
    assert (folder / "saved_model" / "saved_model.pb").is_file() == (name in GATED) and (folder / MARKER).is_file()
    assert not [path for path in folder.parent.iterdir() if path.name.startswith(f"{name}.partial-")]  # others may be exporting


@once
@pytest.mark.parametrize("name", PRESETS)
def test_parity_gate_passes(artifacts, name):
    """The export's gate: on every backend and the SavedModel for one preset per family (`GATED`), on tensorflow
    for the others; encoder-decoders decode part of their held-out set (`zoo parity` decodes all of it)."""
    manifest = read_manifest(artifacts[name])
    report = manifest["parity"]
    backends = BACKENDS if name in GATED else ("tensorflow",)
    candidates = {row["candidate"] for row in report["rows"]}
    assert candidates == {f"keras-{backend}" for backend in backends} | ({"savedmodel"} if name in GATED else set())
    assert report["passed"], failures(report)
    outputs = {output["name"] for graph in traced_graphs(manifest).values() for output in graph["outputs"]}
    assert {row["tensor"] for row in report["rows"]} == outputs
    if manifest["max_target_length"]:
        searches = {(f"beam{width}", f"keras-{backend}") for width in (1, 4) for backend in backends} | {(f"{kind} graph", "decoder_step step by step") for kind in ("greedy_search", "beam_search")}
        assert {(row["decoding"], row["candidate"]) for row in report["decoding"]["rows"]} == searches
        assert all(row["sentences"] == DECODE_LIMITS["gated" if name in GATED else "fast"] for row in report["decoding"]["rows"])
    if any(graph["kind"] == "decoder_step" and Graphs(manifest["graphs"]).tensor(name_, "outputs", "attention") for name_, graph in manifest["graphs"].items()):
        assert set(report["attention_invariants"]) == candidates | {"onnxruntime-cpu"}


@once
def test_parity_cases_cover_batches_lengths_and_padding(artifacts):
    cases = parity_cases(read_manifest(artifacts["rnn_surname_origin"]))
    sequence = {label: inputs["tokens"] for label, (graph, inputs) in cases.items() if graph == "sequence"}
    assert {tokens.shape for tokens in sequence.values()} == {(b, t) for b in (1, 3, 64) for t in (1, 7, 300)}
    assert (sequence["sequence.b64.t300"] == 0).any() and (sequence["sequence.b64.t300"][0] != 0).all()


class FirstChoiceDecoder:
    """A runner whose decoder's first token is id 3 by `lead` (log-probability) over id 4, then the end."""

    graphs = Graphs({
        "encoder": {"kind": "encoder", "inputs": [{"name": "source", "role": "tokens"}], "outputs": [{"name": "initial_state", "role": "state"}]},
        "decoder_step": {
            "kind": "decoder_step",
            "inputs": [{"name": "previous_token", "role": "tokens"}, {"name": "state", "role": "state"}],
            "outputs": [{"name": "logits", "role": "logits"}, {"name": "new_state", "role": "state"}],
        },
    })

    def __init__(self, lead):
        self.lead = lead

    def run(self, graph, inputs):
        if graph == "encoder":
            return {"initial_state": np.zeros((len(inputs["source"]), 1), "float32")}
        logits = np.tile([0.0, 0.0, 0.0, 1.0, 1.0 - self.lead, -5.0], (len(inputs["previous_token"]), 1))
        logits[inputs["previous_token"] != BOS_ID, EOS_ID] = 10.0
        return {"logits": logits, "new_state": inputs["state"]}


@pytest.mark.parametrize("lead, near_ties", [(-DECODING_TIE / 100, 1), (-0.1, 0)])
def test_a_decoding_that_differs_passes_only_at_a_near_tie(lead, near_ties):
    """Greedy decoding picks 3 by a 1e-6 lead in one runtime and 4 in the other: that is fp32 noise. Picking 4
    by a 0.1 lead is not."""
    source = np.ones((1, 1), "int32")
    expected, other = decodings(FirstChoiceDecoder(DECODING_TIE / 100), source, 4), decodings(FirstChoiceDecoder(lead), source, 4)
    assert (expected[1]["ids"].tolist(), other[1]["ids"].tolist()) == ([[3]], [[4]])
    assert compare_decodings(expected[1], other[1]) == (1, near_ties)
    assert compare_decodings(expected[1], expected[1]) == (0, 0)


def test_searches_that_keep_the_same_beams_and_pick_near_tied_ends_count_as_a_json_integer():
    """The parity report is JSON: the count of near-ties must be an int, not numpy's."""
    search = {"steps": np.array([1]), "beams": np.array([[[5, 6]]]), "beam_scores": np.zeros((1, 1, 2)), "runner_up": np.zeros((1, 1))}
    expected = {**search, "ids": np.array([[3]]), "score": np.array([-1.0])}
    other = {**search, "ids": np.array([[4]]), "score": np.array([-1.0 + DECODING_TIE / 10])}
    assert json.dumps(compare_decodings(expected, other)) == "[1, 1]"


@once
def test_parity_gate_fails_on_a_wrong_graph(artifacts, tmp_path):
    """An ONNX graph whose logits are off by 1e-3 must fail, and the CLI must exit non-zero."""
    folder = shutil.copytree(artifacts["rnn_surname_origin"], tmp_path / "artifact")
    model = onnx.load(str(folder / "step.onnx"))
    head_bias = next(t for t in model.graph.initializer if onnx.numpy_helper.to_array(t).shape == (18,))
    head_bias.CopyFrom(onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(head_bias) + 1e-3, head_bias.name))
    onnx.save(model, str(folder / "step.onnx"))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["step.onnx"] = sha256(folder / "step.onnx")
    write_manifest(folder, manifest)
    result = zoo_cli("parity", str(folder), "--backends", "tensorflow", check=False)
    assert "FAIL" in result.stdout
    assert_one_line_error(result, "step/logits")


@once
def test_export_of_an_unknown_preset_leaves_nothing(tmp_path):
    result = zoo_cli("export", "no_such_preset", "--out", str(tmp_path / "out"), check=False)
    assert_one_line_error(result, "no_such_preset")
    assert list(tmp_path.iterdir()) == []


@once
def test_export_refuses_unknown_formats_and_opsets(tmp_path):
    assert_one_line_error(zoo_cli("export", "rnn_surname_origin", "--out", str(tmp_path / "a"), "--formats", "onnx,tflite", check=False), "tflite")
    assert_one_line_error(zoo_cli("export", "rnn_surname_origin", "--out", str(tmp_path / "a"), "--opset", "5", check=False), "opset 5", "14 to 18")
    assert not list(tmp_path.iterdir())


@once
def test_export_never_deletes_what_zoo_did_not_write(artifacts, tmp_path):
    """A folder of the user's, or an artifact with the user's file in it, is refused and left as it was."""
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("years of work")
    assert_one_line_error(zoo_cli("export", "rnn_surname_origin", "--out", str(tmp_path / "mine"), check=False), str(tmp_path / "mine"), "not written by zoo")
    artifact = shutil.copytree(artifacts["rnn_surname_origin"], tmp_path / "artifact")
    (artifact / "notes.txt").write_text("mine")
    assert_one_line_error(zoo_cli("export", "rnn_surname_origin", "--out", str(artifact), check=False), "notes.txt")
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "years of work" and (artifact / "notes.txt").read_text() == "mine"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["artifact", "mine"]


@once
def test_parity_summary_is_one_row_per_artifact_from_its_stored_report(artifacts):
    attentive = next(name for name in GATED if FAMILIES[name] == "attention_seq2seq")  # its gate decoded on every backend
    lines = zoo_cli("parity", "--summary", str(artifacts["rnn_surname_origin"]), str(artifacts[attentive])).stdout.strip().splitlines()
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| rnn_surname_origin", f"| {attentive}"]
    assert lines[3].endswith(f"{DECODE_LIMITS['gated']} x 3 (beam1, beam4, beam_search graph, greedy_search graph), 0 (0) | passed |")
    assert_one_line_error(zoo_cli("parity", str(artifacts["rnn_surname_origin"]), str(artifacts[attentive]), check=False), "--summary")


@once
def test_parity_refuses_unknown_backends(artifacts):
    assert_one_line_error(zoo_cli("parity", str(artifacts["rnn_surname_origin"]), "--backends", "mxnet", check=False), "mxnet")


@once
def test_parity_of_a_manifest_naming_a_tensor_the_graph_lacks_is_a_one_line_error(artifacts, tmp_path):
    folder = shutil.copytree(artifacts["rnn_surname_origin"], tmp_path / "artifact")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["graphs"]["sequence"]["inputs"][0]["name"] = "words"
    write_manifest(folder, manifest)
    assert_one_line_error(zoo_cli("parity", str(folder), "--backends", "tensorflow", check=False), "graphs.sequence.inputs", "words", "tokens")
