"""Reference outputs for the parity gate, computed by Keras (and the SavedModel) in this process.

Run as `python -m export.reference ARTIFACT INPUTS.npz OUTPUTS.npz` with KERAS_BACKEND set to
the backend under test; under tensorflow it also evaluates the artifact's SavedModel. Inputs with
`decode/source/<encoder input>` ask also for greedy and beam decodings of those sources.
"""
import sys
from pathlib import Path

import keras
import numpy as np

from export.parity import decodings
from zoo.presets import Preset
from zoo.runner import KerasRunner


def case_inputs(arrays):
    """{case: {graph, inputs}} from the flat `case/graph/input` keys of an .npz file."""
    cases = {}
    for key, value in arrays.items():
        case, graph, name = key.split("/")
        cases.setdefault(case, {"graph": graph, "inputs": {}})["inputs"][name] = value
    return cases


def keras_outputs(model, cases):
    graphs = model.deployment_graphs()
    results = {}
    for case, spec in cases.items():
        outputs = graphs[spec["graph"]].predict_on_batch(spec["inputs"])
        results.update({f"{case}/{name}": np.asarray(value) for name, value in outputs.items()})
    return results


def saved_model_outputs(artifact, cases):
    import tensorflow as tf

    loaded = tf.saved_model.load(str(Path(artifact) / "saved_model"))
    results = {}
    for case, spec in cases.items():
        outputs = loaded.signatures[spec["graph"]](**spec["inputs"])
        results.update({f"{case}/{name}": value.numpy() for name, value in outputs.items()})
    return results


def main():
    artifact, inputs, outputs = sys.argv[1:]
    arrays = dict(np.load(inputs))
    backend = keras.backend.backend()
    model = Preset(Path(artifact) / "preset").load_model()
    cases = case_inputs({key: value for key, value in arrays.items() if not key.startswith("decode/")})
    results = {f"keras-{backend}/{key}": value for key, value in keras_outputs(model, cases).items()}
    if backend == "tensorflow" and (Path(artifact) / "saved_model").is_dir():
        results |= {f"savedmodel/{key}": value for key, value in saved_model_outputs(artifact, cases).items()}
    source = {key.split("/")[2]: value for key, value in arrays.items() if key.startswith("decode/source/")}
    if source:
        decoded = decodings(KerasRunner(model), source, int(arrays["decode/max_length"]))
        results |= {f"keras-{backend}/decode/beam{width}/{field}": value for width, fields in decoded.items() for field, value in fields.items()}
    np.savez(outputs, **results)


if __name__ == "__main__":
    main()
