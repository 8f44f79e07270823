"""Exports a preset to an artifact folder: ONNX graphs, a SavedModel, the preset itself, a manifest.

Only the TensorFlow backend gives correct ONNX graphs for recurrent models (a torch export freezes
the time axis and can silently return wrong numbers), so the graphs are always traced in a
`KERAS_BACKEND=tensorflow` process, from weights trained on any backend.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from export.parity import check_parity, failures
from zoo.core.errors import ZooError
from zoo.presets import Preset

FORMATS = ("onnx", "savedmodel")
DEFAULT_OPSET = 17


def export_preset(preset, out, formats=FORMATS, opset=DEFAULT_OPSET, parity_backends=("tensorflow",), decode_limit=None):
    """Writes the artifact for `preset` (name or folder) to `out`, gated by the parity check on `parity_backends`
    (decoding the first `decode_limit` held-out sources, all by default).

    The folder appears only when everything, parity included, succeeded.
    """
    formats = tuple(formats)
    unknown = set(formats) - set(FORMATS)
    if unknown or "onnx" not in formats:
        raise ZooError(f"formats must include onnx and be among {', '.join(FORMATS)}; got {', '.join(formats)}")
    Preset(preset)  # fails fast, before a TensorFlow process starts, on a bad name or folder
    out = Path(out)
    if out.exists() and not (out / "manifest.json").is_file():
        raise ZooError(f"{out} exists and is not an artifact folder; choose another --out")
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        run_in_tensorflow(["-m", "export.graphs", str(preset), str(staging), ",".join(formats), str(opset)])
        report = check_parity(staging, parity_backends, providers=("cpu",), decode_limit=decode_limit)
        if not report["passed"]:
            raise ZooError(f"parity gate failed, no artifact written: {failures(report)}")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return out


def run_in_tensorflow(arguments):
    """Runs `python ARGUMENTS` with the TensorFlow backend; a failure's last line becomes the error."""
    environment = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
    result = subprocess.run([sys.executable, *arguments], env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        raise ZooError(lines[-1].removeprefix("error: ") if lines else f"{' '.join(arguments)} failed with exit code {result.returncode}")
    return result.stdout
