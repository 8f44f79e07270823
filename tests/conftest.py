import os
import subprocess
import sys
from pathlib import Path

import pytest

from zoo.presets import preset_names

REPO = Path(__file__).resolve().parent.parent
BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
PRESETS = tuple(preset_names())

# Tests that span every backend themselves (export, parity, serving) run once, in the tensorflow pass.
once = pytest.mark.skipif(BACKEND != "tensorflow", reason="backend-independent: runs once, in the KERAS_BACKEND=tensorflow pass")


def run(*arguments, backend=None, check=True):
    """Runs `python ARGUMENTS` from the repository root; returns the completed process."""
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
    if backend:
        environment["KERAS_BACKEND"] = backend
    result = subprocess.run([sys.executable, *arguments], cwd=REPO, env=environment, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def zoo_cli(*arguments, **options):
    return run("-c", "from zoo.cli import main; main()", *arguments, **options)


def assert_one_line_error(result, *words):
    """A non-zero exit with a single `error: ...` line on stderr that names the problem."""
    assert result.returncode != 0
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]


# Held-out sources the suite decodes per preset (greedy and beam 4, on three backends; verses are long);
# `zoo parity` decodes all of them.
DECODE_LIMITS = {"attention_en_fr_bible": 16, "seq2seq_en_fr_bible": 16}
DECODE_LIMIT = 64


class Artifacts(dict):
    """Preset name -> artifact folder, each exported on first use (up to two minutes), its gate run on every backend:
    the export tests read that parity report."""

    def __init__(self, root):
        super().__init__()
        self.root = root

    def __missing__(self, name):
        from export.artifact import export_preset
        from export.parity import BACKENDS

        self[name] = export_preset(name, self.root / name, parity_backends=BACKENDS, decode_limit=DECODE_LIMITS.get(name, DECODE_LIMIT))
        return self[name]


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory):
    return Artifacts(tmp_path_factory.mktemp("artifacts"))
