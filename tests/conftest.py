import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from benchmarks.load import started_server
from zoo.core.backends import BACKENDS, backend_environment
from zoo.presets import PRESETS_FOLDER, preset_names

REPO = Path(__file__).resolve().parent.parent
BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
PRESETS = tuple(preset_names())
FAMILIES = {name: json.loads((PRESETS_FOLDER / name / "metadata.json").read_text())["family"] for name in PRESETS}
# The full gate (every backend, the SavedModel, decoding on every backend) runs for one preset per family, the
# cheapest; every other preset gets the fast checks: tensor parity on tensorflow and a few decodings. `make verify`
# runs the full gate on every preset.
GATED = tuple(min((name for name in PRESETS if FAMILIES[name] == family), key=lambda name: (PRESETS_FOLDER / name / "model.weights.h5").stat().st_size) for family in sorted(set(FAMILIES.values())))
DECODE_LIMITS = {"gated": 8, "fast": 4}
EXPORTED = pytest.StashKey()
SPOKEN = {"three": "three hundred and twelve", "seventy": "seventy thousand and four"}

# Tests that span every backend themselves (export, parity, serving) run once, in the tensorflow pass.
once = pytest.mark.skipif(BACKEND != "tensorflow", reason="backend-independent: runs once, in the KERAS_BACKEND=tensorflow pass")


def run(*arguments, backend=None, check=True, stdin=None):
    """Runs `python ARGUMENTS` from the repository root; returns the completed process."""
    result = subprocess.run([sys.executable, *arguments], cwd=REPO, env=backend_environment(backend), capture_output=True, text=True, input=stdin)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def blocking(*packages):
    """Python source that makes importing any of `packages` fail: a script's first lines, or a sitecustomize."""
    return (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {packages!r}:\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
    )


FRAMEWORKS = ("keras", "tensorflow", "jax", "torch")


def zoo_cli(*arguments, **options):
    return run("-c", "from zoo.cli import main; main()", *arguments, **options)


def assert_round_trips(model, inputs, folder):
    """Rebuilt from its config, the model has the same config; saved as a `.keras` file and loaded, the same outputs."""
    import keras
    import numpy as np

    assert type(model).from_config(model.get_config()).get_config() == model.get_config()
    model.save(folder / "model.keras")
    loaded = keras.saving.load_model(folder / "model.keras")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(inputs)), keras.ops.convert_to_numpy(model(inputs)), atol=1e-6)


def assert_one_line_error(result, *words):
    """A non-zero exit with a single `error: ...` line on stderr that names the problem."""
    assert result.returncode != 0
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]


class Artifacts(dict):
    """Preset name -> artifact folder, its gate run on every backend and the SavedModel for the `GATED` presets and
    on tensorflow for the others: the export tests read that parity report.

    The presets in `ahead` are exported two at a time from the session's start, in that order, while the tests that
    read no artifact run (they run first); any other preset on first use. An export keeps about one core busy
    (measured: four presets took 62.5 s one after another and 36.7 s two at a time).
    """

    def __init__(self, root, ahead):
        super().__init__()
        self.root = root
        self.pool = ThreadPoolExecutor(2)
        self.exporting = {name: self.pool.submit(self.export, name) for name in ahead}

    def export(self, name):
        from export.artifact import export_preset

        gated = name in GATED
        # The SavedModel is gated only for the GATED presets: the others skip writing it.
        formats = ("onnx", "savedmodel") if gated else ("onnx",)
        return export_preset(name, self.root / name, formats, parity_backends=BACKENDS if gated else ("tensorflow",), decode_limit=DECODE_LIMITS["gated" if gated else "fast"])

    def __missing__(self, name):
        self[name] = self.exporting[name].result() if name in self.exporting else self.export(name)
        return self[name]


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: "artifacts" in item.fixturenames)  # stable: otherwise in pytest's order


def pytest_collection_finish(session):
    """Notes the presets that the tests to run take as their `name` and export, in the order they run."""
    runs = [item for item in session.items if "artifacts" in item.fixturenames and not any(mark.args[0] for mark in item.iter_markers("skipif"))]
    session.config.stash[EXPORTED] = list(dict.fromkeys(item.callspec.params["name"] for item in runs if hasattr(item, "callspec") and "name" in item.callspec.params))


@pytest.fixture(scope="session", autouse=True)
def exports(tmp_path_factory, pytestconfig):
    """The session's `Artifacts`, created with the first test so that the exports start then."""
    exported = Artifacts(tmp_path_factory.mktemp("artifacts"), pytestconfig.stash[EXPORTED])
    yield exported
    exported.pool.shutdown(cancel_futures=True)


@pytest.fixture(scope="session")
def artifacts(exports):
    return exports


@pytest.fixture(scope="session")
def scene_files(tmp_path_factory):
    """The first sample scene as a grey PNG, and as a larger colour JPEG."""
    from PIL import Image

    from training.captioning import load_split

    scenes, _, captions = load_split("sample", 0)
    folder = tmp_path_factory.mktemp("scenes")
    Image.fromarray(scenes[0]).save(folder / "scene.png")
    Image.fromarray(scenes[0]).convert("RGB").resize((300, 300)).save(folder / "scene.jpg", quality=95)
    return folder / "scene.png", folder / "scene.jpg", captions[0]


@pytest.fixture(scope="session")
def spoken_files(tmp_path_factory):
    """Two numbers spoken by espeak-ng's default American voice (a training accent, without a variant) as WAV files."""
    folder = tmp_path_factory.mktemp("speech")
    for name, text in SPOKEN.items():
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(folder / f"{name}.wav"), text], check=True)
    return {text: folder / f"{name}.wav" for name, text in SPOKEN.items()}


def same(answer, expected):
    """Equal JSON, but for numbers within 2e-6: a sentence decoded in another batch (other rows, other padding) gets
    the same tokens, and its scores and weights may differ in the last of their 6 decimals (fp32 sums)."""
    if isinstance(expected, float) or isinstance(answer, float):
        return abs(answer - expected) <= 2e-6
    if isinstance(expected, dict):
        return isinstance(answer, dict) and answer.keys() == expected.keys() and all(same(answer[key], expected[key]) for key in expected)
    if isinstance(expected, list):
        return isinstance(answer, list) and len(answer) == len(expected) and all(map(same, answer, expected))
    return answer == expected


@contextmanager
def http_server(*arguments, ready_s=120):
    """A real `python -m serving ... --http` process on a free localhost port: yields (base URL, process), then
    stops it with SIGTERM."""
    url, process = started_server(arguments, ready_s, env=backend_environment(None), stderr=subprocess.PIPE, text=True)
    if url is None:
        raise AssertionError(f"the server did not start:\n{process.stderr.read()}")
    try:
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
