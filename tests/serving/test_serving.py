import json
import shutil

import numpy as np
import pytest

from tests.conftest import assert_one_line_error, once, run


def serve(folder, *arguments, check=True):
    return run("-m", "serving", str(folder), *arguments, check=check)


@once
def test_generates_text_from_a_prompt(artifacts):
    result = json.loads(serve(artifacts["char_rnn_shakespeare"], "--prompt", "ROMEO:", "--length", "120", "--seed", "3", "--json").stdout)
    assert result["preset"] == "char_rnn_shakespeare" and len(result["generated"]) == 120
    again = json.loads(serve(artifacts["char_rnn_shakespeare"], "--prompt", "ROMEO:", "--length", "120", "--seed", "3", "--json").stdout)
    assert again["generated"] == result["generated"]
    plain = serve(artifacts["char_rnn_shakespeare"], "--prompt", "ROMEO:", "--length", "50").stdout
    assert plain.startswith("ROMEO:")


@once
def test_classifies_a_surname(artifacts):
    result = json.loads(serve(artifacts["rnn_surname_origin"], "--text", "Nakamura", "--top-k", "5", "--json").stdout)
    probabilities = [c["probability"] for c in result["classes"]]
    assert len(probabilities) == 5 and probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1.0001


@once
def test_greedy_generation_matches_keras(artifacts):
    """Greedy decoding through onnxruntime gives the characters Keras gives, by the same numpy loop."""
    served = json.loads(serve(artifacts["char_rnn_shakespeare"], "--prompt", "JULIET:", "--length", "80", "--temperature", "0", "--json").stdout)
    script = (
        "import numpy as np, zoo; from zoo.core.decoding import sample_text;"
        "model = zoo.load('char_rnn_shakespeare'); graphs = model.deployment_graphs();"
        "run = lambda g, x: {k: np.asarray(v) for k, v in graphs[g].predict_on_batch(x).items()};"
        "print(sample_text(run, zoo.Preset('char_rnn_shakespeare').tokenizer, 'JULIET:', 80, 0, np.random.default_rng(0)), end='')"
    )
    for backend in ("tensorflow", "jax", "torch"):
        assert run("-c", script, backend=backend).stdout == served["generated"], backend


@once
def test_serving_imports_no_deep_learning_framework(artifacts):
    script = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('keras', 'tensorflow', 'jax', 'torch'):\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import serving, serving.__main__\n"
        f"serving.__main__.main([{str(artifacts['rnn_surname_origin'])!r}, '--text', 'Nakamura'])\n"
        "assert not {'keras', 'tensorflow', 'jax', 'torch'} & set(sys.modules)\n"
    )
    assert "Nakamura" in run("-c", script).stdout


@once
@pytest.mark.parametrize(
    "arguments, words",
    [
        (["--text", "Nak€mura"], ["unknown characters", "€"]),
        (["--text", ""], ["empty"]),
        (["--text", "x" * 200], ["200 characters", "maximum"]),
        (["--prompt", "ROMEO:"], ["classification", "--prompt"]),
    ],
)
def test_bad_text_is_a_one_line_error(artifacts, arguments, words):
    assert_one_line_error(serve(artifacts["rnn_surname_origin"], *arguments, check=False), *words)


@once
def test_bad_prompt_is_a_one_line_error(artifacts):
    assert_one_line_error(serve(artifacts["char_rnn_shakespeare"], "--prompt", "ROMEO\u2603", check=False), "unknown characters")
    assert_one_line_error(serve(artifacts["char_rnn_shakespeare"], "--prompt", "", check=False), "empty")


@once
def test_corrupted_onnx_is_refused(artifacts, tmp_path):
    folder = shutil.copytree(artifacts["rnn_surname_origin"], tmp_path / "artifact")
    (folder / "sequence.onnx").write_bytes(b"not an onnx graph")
    assert_one_line_error(serve(folder, "--text", "Nakamura", check=False), "sequence.onnx", "sha256")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["sequence.onnx"] = __import__("hashlib").sha256(b"not an onnx graph").hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert_one_line_error(serve(folder, "--text", "Nakamura", check=False), "onnxruntime cannot load", "sequence.onnx")


@once
def test_missing_or_malformed_manifest_is_refused(artifacts, tmp_path):
    folder = shutil.copytree(artifacts["rnn_surname_origin"], tmp_path / "artifact")
    (folder / "manifest.json").write_text("{not json")
    assert_one_line_error(serve(folder, "--text", "Nakamura", check=False), "manifest.json", "not valid JSON")
    (folder / "manifest.json").write_text(json.dumps({"preset": "x"}))
    assert_one_line_error(serve(folder, "--text", "Nakamura", check=False), "malformed", "graphs")
    (folder / "manifest.json").unlink()
    assert_one_line_error(serve(folder, "--text", "Nakamura", check=False), "no manifest.json")
    assert_one_line_error(serve(tmp_path / "nowhere", "--text", "Nakamura", check=False), "no artifact folder")


@once
def test_unavailable_provider_is_refused(artifacts):
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("CUDA is available here")
    assert_one_line_error(serve(artifacts["rnn_surname_origin"], "--text", "Nakamura", "--provider", "cuda", check=False), "cuda provider is not available")


@once
def test_translates_with_attention_and_draws_the_alignment(artifacts, tmp_path):
    folder = artifacts["attention_en_fr_numbers"]
    result = json.loads(serve(folder, "--text", "four hundred and twenty-three", "--beam", "4", "--json").stdout)
    assert result["translation"] == "quatre cent vingt-trois"
    attention = result["attention"]
    assert len(attention) == len(result["target_tokens"]) and all(len(row) == len(result["source_tokens"]) for row in attention)
    assert all(abs(sum(row) - 1) < 1e-5 for row in attention)
    heatmap = tmp_path / "alignment.png"
    assert serve(folder, "--text", "ninety-one", "--heatmap", str(heatmap)).stdout.strip() == "quatre-vingt-onze"
    assert heatmap.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@once
def test_translates_a_file_to_json_lines(artifacts, tmp_path):
    lines = ["seven", "one thousand and one", "eighty"]
    source = tmp_path / "numbers.txt"
    source.write_text("\n".join(lines) + "\n")
    for name in ("seq2seq_en_fr_numbers", "attention_en_fr_numbers"):
        outputs = [json.loads(line) for line in serve(artifacts[name], "--input", str(source)).stdout.splitlines()]
        assert [o["text"] for o in outputs] == lines
        assert ("attention" in outputs[0]) == (name == "attention_en_fr_numbers")


@once
@pytest.mark.parametrize(
    "arguments, words",
    [
        (["--text", "four hundred and twelvety"], ["unknown words", "twelvety"]),
        (["--text", " "], ["empty"]),
        (["--text", " ".join(["one"] * 60)], ["60 tokens", "maximum"]),
        (["--text", "seven", "--beam", "0"], ["--beam"]),
        (["--prompt", "seven"], ["translation", "--prompt"]),
    ],
)
def test_bad_translation_input_is_a_one_line_error(artifacts, arguments, words):
    assert_one_line_error(serve(artifacts["attention_en_fr_numbers"], *arguments, check=False), *words)


@once
def test_heatmap_needs_an_attention_model(artifacts, tmp_path):
    result = serve(artifacts["seq2seq_en_fr_numbers"], "--text", "seven", "--heatmap", str(tmp_path / "a.png"), check=False)
    assert_one_line_error(result, "no attention")
    assert not list(tmp_path.iterdir())


@once
def test_translates_free_english_text_into_french_subwords(artifacts, tmp_path):
    folder, heatmap = artifacts["attention_en_fr_bible"], tmp_path / "alignment.png"
    text = "The agreement on the European Economic Area was signed in August 1992."
    result = json.loads(serve(folder, "--text", text, "--beam", "4", "--json", "--heatmap", str(heatmap)).stdout)
    assert result["translation"] and result["source_tokens"][0] == "\u2581The" and result["source_tokens"][-1] == "</s>"
    assert "".join(result["target_tokens"][:-1]).replace("\u2581", " ").strip() == result["translation"]
    attention = np.array(result["attention"])
    assert attention.shape == (len(result["target_tokens"]), len(result["source_tokens"]))
    np.testing.assert_allclose(attention.sum(axis=1), 1.0, atol=1e-5)
    assert heatmap.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def scene_files(tmp_path_factory):
    """The first sample scene as a grey PNG, and as a larger colour JPEG."""
    from PIL import Image

    from training.captioning import load_split

    scenes, _, captions = load_split("sample", 0)
    folder = tmp_path_factory.mktemp("scenes")
    Image.fromarray(scenes[0]).save(folder / "scene.png")
    Image.fromarray(scenes[0]).convert("RGB").resize((300, 300)).save(folder / "scene.jpg", quality=95)
    return folder / "scene.png", folder / "scene.jpg", captions[0]


@once
def test_captions_an_image_with_attention_grids_and_an_overlay(artifacts, scene_files, tmp_path):
    png, jpeg, reference = scene_files
    folder, overlay = artifacts["sat_fashion_scenes"], tmp_path / "overlay.png"
    result = json.loads(serve(folder, "--image", str(png), "--json", "--overlay", str(overlay)).stdout)
    attention = np.array(result["attention"])
    assert attention.shape == (len(result["tokens"]), 6, 6) and result["tokens"][-1] == "</s>"
    np.testing.assert_allclose(attention.sum(axis=(1, 2)), 1.0, atol=1e-5)
    assert overlay.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert serve(folder, "--image", str(png), "--beam", "3").stdout.strip()
    # A resized colour JPEG of the same scene is read as the same grey scene, give or take compression.
    assert serve(folder, "--image", str(jpeg)).stdout.strip().split(" at ")[0] == result["caption"].split(" at ")[0]


@once
def test_bad_images_are_one_line_errors(artifacts, tmp_path):
    from PIL import Image

    folder = artifacts["sat_fashion_scenes"]
    (tmp_path / "notes.png").write_text("not an image")
    Image.new("L", (10_000, 6_000)).save(tmp_path / "huge.png")
    assert_one_line_error(serve(folder, "--image", str(tmp_path / "notes.png"), check=False), "not an image")
    assert_one_line_error(serve(folder, "--image", str(tmp_path / "missing.png"), check=False), "cannot read")
    assert_one_line_error(serve(folder, "--image", str(tmp_path / "huge.png"), check=False), "10000 x 6000", "limit")
    assert_one_line_error(serve(folder, "--text", "a dress", check=False), "captioning")
    assert_one_line_error(serve(artifacts["attention_en_fr_numbers"], "--image", str(tmp_path / "huge.png"), check=False), "--image")
    assert_one_line_error(serve(folder, "--text", "seven", "--overlay", str(tmp_path / "o.png"), check=False), "--image")
