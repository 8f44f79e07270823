"""Reference outputs for the parity gate, computed by Keras (and the SavedModel) in this process.

Run as `python -m export.reference ARTIFACT INPUTS.npz OUTPUTS.npz` with KERAS_BACKEND set to
the backend under test; under tensorflow it also evaluates the artifact's SavedModel. Inputs with
`decode/source` ask instead for greedy and beam decodings of those sources.
"""
import sys
from pathlib import Path

import keras
import numpy as np

from serving.decoding import beam_search_in_batches, padded_ids
from zoo.presets import Preset
from zoo.runner import keras_runner


def case_inputs(arrays):
    """{case: {graph, inputs}} from the flat `case/graph/input` keys of an .npz file."""
    cases = {}
    for key, value in arrays.items():
        case, graph, name = key.split("/")
        cases.setdefault(case, {"graph": graph, "inputs": {}})["inputs"][name] = value
    return cases


def keras_outputs(artifact, cases):
    graphs = Preset(Path(artifact) / "preset").load_model().deployment_graphs()
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


def keras_decodings(artifact, source, max_length, beam_widths, batch):
    """Token ids decoded by Keras through the shared numpy loop, one padded array per beam width."""
    run = keras_runner(Preset(Path(artifact) / "preset").load_model())
    return {f"beam{width}": padded_ids(beam_search_in_batches(run, source, max_length, width, batch)) for width in beam_widths}


def main():
    artifact, inputs, outputs = sys.argv[1:]
    arrays = dict(np.load(inputs))
    backend = keras.backend.backend()
    if "decode/source" in arrays:
        widths = [int(width) for width in arrays["decode/beam_widths"]]
        decoded = keras_decodings(artifact, arrays["decode/source"], int(arrays["decode/max_length"]), widths, int(arrays["decode/batch"]))
        np.savez(outputs, **{f"keras-{backend}/{key}": value for key, value in decoded.items()})
        return
    cases = case_inputs(arrays)
    results = {f"keras-{backend}/{key}": value for key, value in keras_outputs(artifact, cases).items()}
    if backend == "tensorflow" and (Path(artifact) / "saved_model").is_dir():
        results.update({f"savedmodel/{key}": value for key, value in saved_model_outputs(artifact, cases).items()})
    np.savez(outputs, **results)


if __name__ == "__main__":
    main()
