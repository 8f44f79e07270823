"""Exports a preset to an artifact folder: ONNX graphs, a SavedModel, the preset itself, a manifest.

Only the TensorFlow backend gives correct ONNX graphs for recurrent models (a torch export freezes
the time axis and can silently return wrong numbers), so the graphs are always traced in a
`KERAS_BACKEND=tensorflow` process, from weights trained on any backend.
"""
from export.parity import check_parity, failures
from zoo.core.backends import run_python
from zoo.core.errors import ZooError
from zoo.core.folders import write_folder
from zoo.presets import Preset

FORMATS = ("onnx", "savedmodel")
DEFAULT_OPSET = 17
# 14 is the first with the recurrent ops' batch-first layout; 18 the last tf2onnx 1.17 converts to.
OPSETS = range(14, 19)


def export_preset(preset, out, formats=FORMATS, opset=DEFAULT_OPSET, parity_backends=("tensorflow",), decode_limit=None):
    """Writes the artifact for `preset` (name or folder) to `out`, gated by the parity check on `parity_backends`
    (decoding `decode_limit` held-out sources spread over the set, all by default).

    The folder appears only when everything, parity included, succeeded; `out` must be absent, empty, or an
    artifact folder zoo wrote holding nothing else.
    """
    formats = tuple(formats)
    unknown = set(formats) - set(FORMATS)
    if unknown or "onnx" not in formats:
        raise ZooError(f"formats must include onnx and be among {', '.join(FORMATS)}; got {', '.join(formats)}")
    if opset not in OPSETS:
        raise ZooError(f"opset {opset} is not supported: choose {OPSETS.start} to {OPSETS.stop - 1}")
    Preset(preset)  # fails fast, before a TensorFlow process starts, on a bad name or folder

    def fill(staging):
        run_python(["-m", "export.graphs", str(preset), str(staging), ",".join(formats), str(opset)], backend="tensorflow", what=f"exporting {preset}")
        report = check_parity(staging, parity_backends, providers=("cpu",), decode_limit=decode_limit)
        if not report["passed"]:
            raise ZooError(f"parity gate failed, no artifact written: {failures(report)}")

    return write_folder(out, "artifact", fill)
