"""Property-based fuzz of serving: whatever the arguments, files and manifest, an answer or a one-line error, never a traceback."""
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import serving.__main__
from serving.artifact import Artifact
from tests.conftest import once
from zoo.core.errors import ZooError
from zoo.core.manifest import write_manifest

FUZZ = settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # capsys is only drained
KNOB = st.integers(-3, 40) | st.sampled_from([0, 10**9])
TEMPERATURE = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, 0.8])


def answer(capsys, folder, *options):
    """Runs the CLI in this process (options as `--name=value`, so that a value may start with a dash): it may print
    or exit with a one-line error; anything else fails the test."""
    try:
        serving.__main__.main([str(folder), *(f"{name}={value}" if value is not None else name for name, value in options)])
    except SystemExit as end:
        errors = capsys.readouterr().err.strip().splitlines()
        if end.code == 2:  # a mistake in the arguments, reported by argparse
            assert len(errors) == 1 and errors[0].startswith("error: "), errors
        else:
            assert end.code in (None, 0) or (isinstance(end.code, str) and end.code.startswith("error: ") and "\n" not in end.code), end.code
    capsys.readouterr()


def words(name):
    return st.lists(st.sampled_from(["seven", "hundred", "and", "twenty", "-", "one", ",", "million", "€", "Seven.", "", "the"]), max_size=8).map(" ".join)


@once
@FUZZ
@given(text=st.text(max_size=60), top_k=KNOB, threads=st.none() | st.integers(-1, 3))
def test_classification_never_ends_in_a_traceback(artifacts, capsys, text, top_k, threads):
    answer(capsys, artifacts["rnn_surname_origin"], ("--text", text), ("--top-k", top_k), *([("--threads", threads)] if threads is not None else []))


@once
@FUZZ
@given(prompt=st.text(max_size=20), length=KNOB, temperature=TEMPERATURE, seed=st.integers(-3, 2**40), as_json=st.booleans())
def test_generation_never_ends_in_a_traceback(artifacts, capsys, prompt, length, temperature, seed, as_json):
    length = min(length, 30) if length < 10**9 else length  # long enough to fail the bound, short enough to run
    answer(capsys, artifacts["char_rnn_shakespeare"], ("--prompt", prompt), ("--length", length), ("--temperature", temperature), ("--seed", seed), *([("--json", None)] if as_json else []))


@once
@FUZZ
@given(prefix=st.text(max_size=12) | st.text("CNOcn()=#123[]@+-Cl", max_size=12), count=KNOB, temperature=TEMPERATURE, seed=st.integers(-3, 2**40), as_json=st.booleans())
def test_molecule_sampling_never_ends_in_a_traceback(artifacts, capsys, prefix, count, temperature, seed, as_json):
    count = min(count, 20) if count < 10**9 else count  # enough to fail the bound, few enough to run
    answer(capsys, artifacts["smiles_rnn_moses"], ("--prompt", prefix), ("--count", count), ("--temperature", temperature), ("--seed", seed), *([("--json", None)] if as_json else []))


@once
@FUZZ
@given(text=st.text(max_size=40) | words("numbers"), beam=KNOB, lines=st.lists(st.text(max_size=30) | words("numbers"), max_size=5), no_attention=st.booleans())
def test_translation_never_ends_in_a_traceback(artifacts, capsys, text, beam, lines, no_attention):
    folder = artifacts["attention_en_fr_numbers"]
    answer(capsys, folder, ("--text", text), ("--beam", min(beam, 20)))
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "lines.txt"
        source.write_text("\n".join(lines), encoding="utf-8")
        answer(capsys, folder, ("--input", source), ("--beam", min(beam, 20)), *([("--no-attention", None)] if no_attention else []))


@once
@FUZZ
@given(content=st.binary(max_size=3000), beam=KNOB, size=st.integers(1, 300))
def test_captioning_never_ends_in_a_traceback(artifacts, capsys, content, beam, size):
    from PIL import Image

    with tempfile.TemporaryDirectory() as scratch:
        garbage, image = Path(scratch) / "garbage.png", Path(scratch) / "image.png"
        garbage.write_bytes(content)
        Image.frombytes("L", (size, 1), (content * size)[:size] or bytes(size)).save(image)
        for path in (garbage, image):
            answer(capsys, artifacts["sat_fashion_scenes"], ("--image", path), ("--beam", min(beam, 5)))


@once
@FUZZ
@given(content=st.binary(max_size=3000), width=st.sampled_from([1, 2, 3, 4]), channels=st.integers(1, 3), rate=st.integers(1, 96_000), beam=KNOB)
def test_spelling_never_ends_in_a_traceback(artifacts, capsys, content, width, channels, rate, beam):
    import wave

    with tempfile.TemporaryDirectory() as scratch:
        garbage, recording = Path(scratch) / "garbage.wav", Path(scratch) / "recording.wav"
        garbage.write_bytes(content)
        with wave.open(str(recording), "wb") as wav:
            wav.setnchannels(channels), wav.setsampwidth(width), wav.setframerate(rate)
            wav.writeframes(content)
        for path in (garbage, recording):
            answer(capsys, artifacts["spell_spoken_numbers"], ("--audio", path), ("--beam", min(beam, 5)))


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)


def paths(value, prefix=()):
    """Every path to a value inside a JSON document."""
    yield prefix
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from paths(child, (*prefix, key))


@pytest.fixture(scope="module")
def manifest(artifacts):
    folder = artifacts["rnn_surname_origin"]
    return folder, json.loads((folder / "manifest.json").read_text())


@once
@FUZZ
@given(data=st.data())
def test_the_manifest_reader_answers_any_edit_with_a_one_line_error(manifest, data):
    """A field anywhere replaced by any JSON value, the manifest's own hash renewed so that the schema is what checks it."""
    folder, original = manifest
    edited = json.loads(json.dumps(original))
    path = data.draw(st.sampled_from([path for path in paths(edited) if path and path[0] not in ("parity", "manifest_sha256")]))
    *parents, last = path
    container = edited
    for key in parents:
        container = container[key]
    container[last] = data.draw(JSON)
    with tempfile.TemporaryDirectory() as scratch:
        copy = shutil.copytree(folder, Path(scratch) / "artifact")
        write_manifest(copy, edited)
        try:
            Artifact(copy)
        except ZooError as error:
            assert "\n" not in str(error)
