import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import FRAMEWORKS, REPO, assert_one_line_error, blocking, once, run
from zoo.core.backends import backend_environment
from zoo.core.manifest import write_manifest


def serve(folder, *arguments, check=True, stdin=None):
    return run("-m", "serving", str(folder), *arguments, check=check, stdin=stdin)


def json_lines(result):
    return [json.loads(line) for line in result.stdout.splitlines()]


@once
def test_generates_text_from_a_prompt(artifacts):
    result = json.loads(serve(artifacts["char_rnn_shakespeare"], "--prompt", "ROMEO:", "--length", "120", "--seed", "3", "--json").stdout)
    assert result["preset"] == "char_rnn_shakespeare" and len(result["generated"]) == 120
    again = json.loads(serve(artifacts["char_rnn_shakespeare"], "--prompt", "ROMEO:", "--length", "120", "--seed", "3", "--json").stdout)
    assert again["generated"] == result["generated"]
    plain = serve(artifacts["char_rnn_shakespeare"], "--prompt", "ROMEO:", "--length", "50").stdout
    assert plain.startswith("ROMEO:") and len(plain) == len("ROMEO:") + 50 + 1


@once
def test_samples_molecules_each_marked_valid_or_not_with_its_canonical_form(artifacts):
    from zoo.core.molecules import canonical

    result = json.loads(serve(artifacts["smiles_rnn_moses"], "--prompt", "", "--count", "40", "--json").stdout)
    molecules = result["molecules"]
    assert result["preset"] == "smiles_rnn_moses" and len(molecules) == 40
    assert all(m["canonical"] == canonical(m["smiles"]) and m["valid"] == (m["canonical"] is not None) for m in molecules)
    assert result["valid_share"] == round(sum(m["valid"] for m in molecules) / 40, 4) > 0.5
    prefixed = json.loads(serve(artifacts["smiles_rnn_moses"], "--prompt", "c1ccccc1", "--count", "5", "--seed", "2", "--json").stdout)
    assert all(m["smiles"].startswith("c1ccccc1") for m in prefixed["molecules"])
    plain = serve(artifacts["smiles_rnn_moses"], "--prompt", "", "--count", "3").stdout.splitlines()
    assert len(plain) == 4 and plain[-1].startswith("valid: ")


@once
@pytest.mark.parametrize(
    "arguments, words",
    [
        (["--prompt", "C[C@H]"], ["'@'", "alphabet"]),
        (["--prompt", "", "--count", "0"], ["--count", "between 1 and 10000"]),
        (["--prompt", "", "--count", "10001"], ["--count"]),
        (["--prompt", "", "--temperature", "-1"], ["--temperature"]),
        (["--text", "CCO"], ["molecule generation", "--prompt", "--text"]),
    ],
)
def test_bad_molecule_requests_are_one_line_errors(artifacts, arguments, words):
    assert_one_line_error(serve(artifacts["smiles_rnn_moses"], *arguments, check=False), *words)


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
        "import numpy as np, zoo; from zoo.core.decoding import sample_text; from zoo.runner import KerasRunner;"
        "print(sample_text(KerasRunner(zoo.load('char_rnn_shakespeare')), zoo.Preset('char_rnn_shakespeare').tokenizer, 'JULIET:', 80, 0, np.random.default_rng(0)), end='')"
    )
    for backend in ("tensorflow", "jax", "torch"):
        assert run("-c", script, backend=backend).stdout == served["generated"], backend


@once
def test_serving_imports_no_deep_learning_framework(artifacts):
    script = (
        blocking(*FRAMEWORKS) +
        "import serving, serving.__main__\n"
        f"serving.__main__.main([{str(artifacts['rnn_surname_origin'])!r}, '--text', 'Nakamura'])\n"
        f"assert not {set(FRAMEWORKS)!r} & set(sys.modules)\n"
    )
    assert "Nakamura" in run("-c", script).stdout


@once
@pytest.mark.parametrize(
    "arguments, words",
    [
        (["--text", "Nak€mura"], ["unknown characters", "€"]),
        (["--text", ""], ["empty"]),
        (["--text", "   "], ["empty"]),  # a blank surname is not classified
        (["--text", "x" * 200], ["200 characters", "maximum"]),
        (["--text", "Nakamura", "--top-k", "0"], ["--top-k", "between 1 and 18"]),
        (["--text", "Nakamura", "--top-k", "-5"], ["--top-k"]),
        (["--text", "Nakamura", "--top-k", "19"], ["--top-k"]),
        (["--text", "Nakamura", "--threads", "0"], ["--threads must be from 1 to 256, not 0"]),
        (["--text", "Nakamura", "--threads", "100000"], ["--threads must be from 1 to 256, not 100000"]),
        (["--prompt", "ROMEO:"], ["classification", "--text", "--prompt"]),
    ],
)
def test_bad_classification_requests_are_one_line_errors(artifacts, arguments, words):
    assert_one_line_error(serve(artifacts["rnn_surname_origin"], *arguments, check=False), *words)


@once
@pytest.mark.parametrize(
    "arguments, words",
    [
        (["--prompt", "ROMEO\u2603"], ["unknown characters"]),
        (["--prompt", ""], ["empty"]),
        (["--prompt", "A", "--length", "1000000000"], ["--length", "between 1 and 10000"]),
        (["--prompt", "A", "--length", "0"], ["--length"]),
        (["--prompt", "A", "--temperature", "nan"], ["--temperature", "finite"]),
        (["--prompt", "A", "--temperature", "inf"], ["--temperature"]),
        (["--prompt", "A", "--temperature", "-1"], ["--temperature"]),
        (["--prompt", "A", "--seed", "-1"], ["--seed"]),
    ],
)
def test_bad_generation_requests_are_one_line_errors(artifacts, arguments, words):
    assert_one_line_error(serve(artifacts["char_rnn_shakespeare"], *arguments, check=False), *words)


@once
def test_corrupted_onnx_is_refused(artifacts, tmp_path):
    folder = shutil.copytree(artifacts["rnn_surname_origin"], tmp_path / "artifact")
    (folder / "sequence.onnx").write_bytes(b"not an onnx graph")
    assert_one_line_error(serve(folder, "--text", "Nakamura", check=False), "sequence.onnx", "sha256")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["sequence.onnx"] = __import__("hashlib").sha256(b"not an onnx graph").hexdigest()
    write_manifest(folder, manifest)
    assert_one_line_error(serve(folder, "--text", "Nakamura", check=False), "onnxruntime cannot load", "sequence.onnx")


def edited(folder, edit, seal=True):
    manifest = json.loads((folder / "manifest.json").read_text())
    edit(manifest)
    if seal:
        write_manifest(folder, manifest)
    else:
        (folder / "manifest.json").write_text(json.dumps(manifest))


@once
@pytest.mark.parametrize(
    "edit, seal, words",
    [
        (lambda m: m["tokenizer"]["labels"].reverse(), False, ["manifest_sha256", "edited"]),  # classes relabelled
        (lambda m: m.update(format_version=999), True, ["format_version 999", "reads 3"]),
        (lambda m: m.update(files=None), True, ["manifest field files", "object"]),
        (lambda m: m.update(graphs=[]), True, ["manifest field graphs", "object"]),
        (lambda m: m["tokenizer"].update(type="bpe"), True, ["manifest field tokenizer.type", "bpe"]),
        (lambda m: m["files"].pop("step.onnx"), True, ["graphs.step.onnx", "step.onnx", "files"]),
        (lambda m: m["graphs"]["step"]["outputs"][0].update(role="guess"), True, ["graphs.step.outputs[0].role"]),
        (lambda m: m.pop("vocabularies"), True, ["manifest field vocabularies is missing"]),
        (lambda m: m["tokenizer"].pop("chars"), True, ["malformed char tokenizer"]),
    ],
)
def test_a_malformed_or_edited_manifest_is_a_one_line_error_naming_the_field(artifacts, tmp_path, edit, seal, words):
    folder = shutil.copytree(artifacts["rnn_surname_origin"], tmp_path / "artifact")
    edited(folder, edit, seal)
    assert_one_line_error(serve(folder, "--text", "Nakamura", check=False), *words)


@once
def test_missing_manifest_or_folder_is_refused(artifacts, tmp_path):
    folder = shutil.copytree(artifacts["rnn_surname_origin"], tmp_path / "artifact")
    (folder / "manifest.json").write_text("{not json")
    assert_one_line_error(serve(folder, "--text", "Nakamura", check=False), "manifest.json", "not valid JSON")
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
    result = json.loads(serve(folder, "--text", "Four hundred and twenty-three.", "--beam", "4", "--json").stdout)
    assert result["translation"] == "quatre cent vingt-trois"  # capitals lowered, the full stop dropped
    attention = result["attention"]
    assert len(attention) == len(result["target_tokens"]) and all(len(row) == len(result["source_tokens"]) for row in attention)
    assert all(abs(sum(row) - 1) < 1e-5 for row in attention)
    heatmap = tmp_path / "alignment.png"
    assert serve(folder, "--text", "ninety-one", "--heatmap", str(heatmap)).stdout.strip() == "quatre-vingt-onze"
    assert heatmap.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@once
def test_a_file_streams_json_lines_one_per_line_and_bad_lines_fail_alone(artifacts, tmp_path):
    """A byte-order mark, blank lines, punctuation the vocabulary lacks and one unknown word: every other line is answered."""
    lines = ["\ufeffseven", "", "one thousand and one.", "four hundred and twelvety", "Eighty!"]
    source = tmp_path / "numbers.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name in ("seq2seq_en_fr_numbers", "attention_en_fr_numbers"):
        result = serve(artifacts[name], "--input", str(source), check=False)
        outputs = json_lines(result)
        assert [output["line"] for output in outputs] == [1, 3, 4, 5] and [("error" in output) for output in outputs] == [False, False, True, False]
        assert "twelvety" in outputs[2]["error"] and ("attention" in outputs[0]) == (name == "attention_en_fr_numbers")
        assert_one_line_error(result, "1 of 4 lines failed")
    bulk = json_lines(serve(artifacts["attention_en_fr_numbers"], "--input", str(source), "--no-attention", check=False))
    assert [output.get("translation") for output in bulk] == ["sept", "mille un", None, "quatre-vingts"]
    assert not any("attention" in output for output in bulk)


@once
def test_every_task_takes_a_file(artifacts, tmp_path, scene_files):
    (tmp_path / "names.txt").write_text("Nakamura\nSmith\n")
    assert [len(o["classes"]) for o in json_lines(serve(artifacts["rnn_surname_origin"], "--input", str(tmp_path / "names.txt"), "--top-k", "2"))] == [2, 2]
    (tmp_path / "prompts.txt").write_text("ROMEO:\nJULIET:\n")
    generated = json_lines(serve(artifacts["char_rnn_shakespeare"], "--input", str(tmp_path / "prompts.txt"), "--length", "20"))
    assert [o["prompt"] for o in generated] == ["ROMEO:", "JULIET:"] and all(len(o["generated"]) == 20 for o in generated)
    png, _, reference = scene_files
    (tmp_path / "images.txt").write_text(f"{png}\n{tmp_path / 'missing.png'}\n")
    captions = json_lines(serve(artifacts["sat_fashion_scenes"], "--input", str(tmp_path / "images.txt"), check=False))
    assert captions[0]["caption"] and "cannot read" in captions[1]["error"]


@once
def test_a_large_file_is_answered_while_it_is_read(artifacts, tmp_path):
    """The first batch's lines come out before the last batch is decoded: output streams, memory stays bounded."""
    source = tmp_path / "many.txt"
    source.write_text("seven hundred and seventy-seven\n" * 2_000)
    process = subprocess.Popen(
        [sys.executable, "-m", "serving", str(artifacts["attention_en_fr_numbers"]), "--input", str(source), "--no-attention"],
        cwd=REPO, env=backend_environment(), stdout=subprocess.PIPE, text=True,
    )
    first = json.loads(process.stdout.readline())
    still_running = process.poll() is None
    rest = process.stdout.readlines()
    assert first["line"] == 1 and first["translation"] == "sept cent soixante-dix-sept"
    assert still_running and len(rest) == 1_999 and process.wait() == 0


@once
def test_a_closed_pipe_ends_quietly_and_a_full_disk_is_a_one_line_error(artifacts, tmp_path):
    source = tmp_path / "many.txt"
    source.write_text("seven\n" * 500)
    command = f"{sys.executable} -m serving {artifacts['attention_en_fr_numbers']} --input {source} | head -1"
    piped = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=REPO, env=backend_environment(), capture_output=True, text=True)
    assert piped.returncode == 0 and piped.stderr == "" and json.loads(piped.stdout)["line"] == 1
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "serving", str(artifacts["attention_en_fr_numbers"]), "--text", "seven"], cwd=REPO, env=backend_environment(), stdout=full, stderr=subprocess.PIPE, text=True)
    assert_one_line_error(result, "cannot write the output", "No space left")


@once
@pytest.mark.parametrize(
    "arguments, words",
    [
        (["--text", "four hundred and twelvety"], ["unknown words", "twelvety"]),
        (["--text", " "], ["empty"]),
        (["--text", " ".join(["one"] * 60)], ["60 tokens", "maximum"]),
        (["--text", "seven", "--beam", "0"], ["--beam", "between 1 and 16"]),
        (["--text", "seven", "--beam", "1000"], ["--beam", "between 1 and 16"]),
        (["--prompt", "seven"], ["translation", "--text", "--prompt"]),
        (["--input", "numbers.txt", "--heatmap", "a.png"], ["--heatmap", "--input"]),
        (["--input", "/nowhere/numbers.txt"], ["cannot read --input"]),
    ],
)
def test_bad_translation_requests_are_one_line_errors(artifacts, arguments, words):
    assert_one_line_error(serve(artifacts["attention_en_fr_numbers"], *arguments, check=False), *words)


@once
def test_a_heatmap_below_a_file_is_a_one_line_error_that_leaves_the_file(artifacts, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    result = serve(artifacts["attention_en_fr_numbers"], "--text", "seven", "--heatmap", str(notes / "a.png"), check=False)
    assert_one_line_error(result, f"cannot write the heatmap {notes / 'a.png'}", "Not a directory")
    assert list(tmp_path.iterdir()) == [notes] and notes.read_text() == "mine"


@once
def test_heatmap_needs_an_attention_model(artifacts, tmp_path):
    result = serve(artifacts["seq2seq_en_fr_numbers"], "--text", "seven", "--heatmap", str(tmp_path / "a.png"), check=False)
    assert_one_line_error(result, "no attention")
    assert not list(tmp_path.iterdir())


@once
def test_parallel_heatmap_writers_each_finish(artifacts, tmp_path):
    """Every writer renders under a name of its own and renames it into place: none fails, and the file is whole."""
    heatmap = tmp_path / "alignment.png"
    command = [sys.executable, "-m", "serving", str(artifacts["attention_en_fr_numbers"]), "--text", "ninety-one", "--heatmap", str(heatmap)]
    writers = [subprocess.Popen(command, cwd=REPO, env=backend_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(4)]
    assert [writer.wait() for writer in writers] == [0] * 4
    from PIL import Image

    with Image.open(heatmap) as image:
        image.verify()
    assert [path.name for path in tmp_path.iterdir()] == ["alignment.png"]


@once
def test_translates_free_english_text_into_french_subwords(artifacts, tmp_path):
    folder, heatmap = artifacts["attention_en_fr_bible"], tmp_path / "alignment.png"
    text = "In the beginning God created the heavens and the earth."
    result = json.loads(serve(folder, "--text", text, "--beam", "4", "--json", "--heatmap", str(heatmap)).stdout)
    assert result["translation"] and result["source_tokens"][0] == "\u2581In" and result["source_tokens"][-1] == "</s>"
    assert "".join(result["target_tokens"][:-1]).replace("\u2581", " ").strip() == result["translation"]
    attention = np.array(result["attention"])
    assert attention.shape == (len(result["target_tokens"]), len(result["source_tokens"]))
    np.testing.assert_allclose(attention.sum(axis=1), 1.0, atol=1e-5)
    assert heatmap.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


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


def served_image(folder, image, tmp_path):
    """Serves a grey uint8 image saved as PNG, with --json and --overlay; checks what every reading shares (attention
    rows summing to 1, one per token, `</s>` last, the caption the card's first example, a PNG overlay) and returns
    the result and its attention grids."""
    from PIL import Image

    Image.fromarray(image).save(tmp_path / "image.png")
    overlay = tmp_path / "overlay.png"
    result = json.loads(serve(folder, "--image", str(tmp_path / "image.png"), "--json", "--overlay", str(overlay)).stdout)
    attention = np.array(result["attention"])
    assert attention.shape[0] == len(result["tokens"]) and result["tokens"][-1] == "</s>"
    np.testing.assert_allclose(attention.sum(axis=(1, 2)), 1.0, atol=1e-5)
    assert result["caption"] == json.loads((folder / "preset" / "metadata.json").read_text())["examples"][0]["translation"]
    assert overlay.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return result, attention


@once
def test_reads_a_molecule_drawing_as_its_card_says_with_attention_on_the_grid(artifacts, tmp_path):
    """RDKit's black-on-white aspirin, as a user would draw it, served as the card's first example reads."""
    from training.data.molecule_images import draw
    from training.molecule_recognition import EXAMPLES

    result, attention = served_image(artifacts["sat_molecule_images"], draw(EXAMPLES["aspirin"])[0], tmp_path)
    assert attention.shape[1:] == (10, 10) and result["caption"] == "".join(result["tokens"][:-1])


@once
def test_reads_a_printed_line_as_its_card_says_with_attention_along_it(artifacts, tmp_path):
    """The card's first phrase, printed in the held-out face as the card printed it, served from a PNG file."""
    from training.data.text_lines import TEST_FONT, render
    from training.text_reading import EXAMPLES

    _, attention = served_image(artifacts["read_text_lines"], render(EXAMPLES[0], TEST_FONT, np.random.default_rng(0))[0], tmp_path)
    assert attention.shape[1:] == (1, 24)
    # Reading left to right: the most attended column never moves back by more than one.
    assert (np.diff(attention[:, 0].argmax(axis=-1)) >= -1).all()


@once
def test_answers_questions_about_a_scene_as_its_card_says_with_attention_on_the_grid(artifacts, scene_files, tmp_path):
    """The card's first four examples ask the first sample scene one question of each kind: served from its PNG file,
    by --image and --question, and all four as lines of --input."""
    png, _, _ = scene_files
    folder, overlay = artifacts["answer_scene_questions"], tmp_path / "overlay.png"
    examples = [e for e in json.loads((folder / "preset" / "metadata.json").read_text())["examples"] if e["source"].startswith("sample scene 0:")]
    questions = [example["source"].split(": ", 1)[1] for example in examples]
    result = json.loads(serve(folder, "--image", str(png), "--question", questions[0], "--json", "--overlay", str(overlay)).stdout)
    attention = np.array(result["attention"])
    assert result["answer"] == examples[0]["translation"] and result["tokens"][-1] == "</s>"
    assert attention.shape == (len(result["tokens"]), 6, 6)
    np.testing.assert_allclose(attention.sum(axis=(1, 2)), 1.0, atol=1e-5)
    assert overlay.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "questions.txt").write_text("".join(f"{png}\t{question}\n" for question in questions))
    lines = json_lines(serve(folder, "--input", str(tmp_path / "questions.txt"), "--no-attention"))
    assert [line["answer"] for line in lines] == [example["translation"] for example in examples] and len(lines) == 4


@once
@pytest.mark.parametrize(
    "preset, arguments, words",
    [
        ("answer_scene_questions", ["--text", "a dress", "--question", "is there a dress?"], ["--question", "give --image"]),
        ("answer_scene_questions", ["--image", "SCENE"], ["question answering", "--question"]),
        ("answer_scene_questions", ["--image", "SCENE", "--question", "is there a unicorn?"], ["unknown", "unicorn"]),
        ("answer_scene_questions", ["--image", "SCENE", "--question", " "], ["empty"]),
        ("sat_fashion_scenes", ["--image", "SCENE", "--question", "is there a dress?"], ["captioning", "no --question"]),
    ],
)
def test_bad_questions_are_one_line_errors(artifacts, scene_files, preset, arguments, words):
    arguments = [str(scene_files[0]) if argument == "SCENE" else argument for argument in arguments]
    assert_one_line_error(serve(artifacts[preset], *arguments, check=False), *words)


@once
def test_spells_spoken_numbers_from_wav_files_with_attention_over_the_audio(artifacts, spoken_files, tmp_path):
    """A number spoken by espeak-ng is spelled from its WAV file by --audio, with the spectrogram and attention drawn by
    --heatmap, and two files and a bad line as lines of --input."""
    folder, heatmap = artifacts["spell_spoken_numbers"], tmp_path / "alignment.png"
    (text, path), (other_text, other_path) = spoken_files.items()
    result = json.loads(serve(folder, "--audio", str(path), "--json", "--heatmap", str(heatmap)).stdout)
    attention = np.array(result["attention"])
    assert result["spelling"] == text and result["tokens"][-1] == "</s>" and "".join(result["tokens"][:-1]) == text
    assert attention.shape == (len(result["tokens"]), -(-result["frames"] // 8))  # one position per 8 frames of 10 ms
    np.testing.assert_allclose(attention.sum(axis=1), 1.0, atol=1e-5)
    peaks = attention.argmax(axis=1)
    assert np.corrcoef(np.arange(len(peaks)), peaks)[0, 1] > 0.5  # the speller reads the audio forwards, on the whole
    assert heatmap.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "notes.wav").write_text("not audio")
    (tmp_path / "files.txt").write_text(f"{path}\n{tmp_path / 'notes.wav'}\n{other_path}\n")
    lines = json_lines(serve(folder, "--input", str(tmp_path / "files.txt"), "--no-attention", check=False))
    assert [line.get("spelling") for line in lines] == [text, None, other_text] and "not a PCM WAV file" in lines[1]["error"]


@once
def test_bad_audio_is_a_one_line_error(artifacts, spoken_files, tmp_path):
    import wave

    folder = artifacts["spell_spoken_numbers"]
    with wave.open(str(tmp_path / "phone.wav"), "wb") as phone:
        phone.setnchannels(1), phone.setsampwidth(2), phone.setframerate(8_000)
        phone.writeframes(b"\1\0" * 8_000)
    assert_one_line_error(serve(folder, "--audio", str(tmp_path / "phone.wav"), check=False), "8000 Hz", "16000")
    assert_one_line_error(serve(folder, "--audio", str(tmp_path / "missing.wav"), check=False), "cannot read", "missing.wav")
    assert_one_line_error(serve(folder, "--text", "seven", check=False), "speech recognition model", "--audio")
    assert_one_line_error(serve(artifacts["attention_en_fr_numbers"], "--audio", str(next(iter(spoken_files.values()))), check=False), "--text", "not --audio")


@once
def test_bad_images_are_one_line_errors(artifacts, tmp_path):
    from PIL import Image

    folder = artifacts["sat_fashion_scenes"]
    (tmp_path / "notes.png").write_text("not an image")
    Image.new("L", (10_000, 6_000)).save(tmp_path / "huge.png")
    assert_one_line_error(serve(folder, "--image", str(tmp_path / "notes.png"), check=False), "not an image")
    assert_one_line_error(serve(folder, "--image", str(tmp_path / "missing.png"), check=False), "cannot read")
    assert_one_line_error(serve(folder, "--image", str(tmp_path / "huge.png"), check=False), "10000 x 6000", "limit")
    assert_one_line_error(serve(folder, "--text", "a dress", check=False), "captioning", "--image")
    assert_one_line_error(serve(artifacts["attention_en_fr_numbers"], "--image", str(tmp_path / "huge.png"), check=False), "--image")
    assert_one_line_error(serve(folder, "--text", "seven", "--overlay", str(tmp_path / "o.png"), check=False), "--image")
