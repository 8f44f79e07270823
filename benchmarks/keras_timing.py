"""Timing helpers, and the Keras side of the benchmark: one process per backend.

Run as `python -m benchmarks.keras_timing ARTIFACT INPUTS.npz REPEATS` with KERAS_BACKEND set; it
prints one JSON object on its last stdout line. Keras is imported only in `main`, so that the parent
process can use the timing helpers without fixing a backend.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

GENERATED_CHARACTERS = 200
PROMPT = "ROMEO:"
TEMPERATURE = 0.8
SEED = 0


def measure(function, repeats):
    """Seconds per call over `repeats` calls, after one untimed call that compiles and fills caches."""
    function()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return seconds


def latency(seconds, batch):
    median = float(np.median(seconds))
    return {"median_ms": 1e3 * median, "p90_ms": 1e3 * float(np.percentile(seconds, 90)), "sequences_per_s": batch / median}


def case_inputs(arrays):
    """{(graph, batch): inputs} from the flat `graph/batch/input` keys of an .npz file."""
    cases = {}
    for key, value in arrays.items():
        graph, batch, name = key.split("/")
        cases.setdefault((graph, int(batch)), {})[name] = value
    return cases


def generation_speed(run, tokenizer, repeats):
    """Characters per second of `sample_text`, every repeat drawing the same text from the same seed."""
    from serving.decoding import sample_text

    def generate():
        sample_text(run, tokenizer, PROMPT, GENERATED_CHARACTERS, TEMPERATURE, np.random.default_rng(SEED))

    return {"characters_per_s": GENERATED_CHARACTERS / float(np.median(measure(generate, repeats)))}


def time_keras(artifact, cases, repeats):
    import keras

    from zoo.presets import Preset

    preset = Preset(Path(artifact) / "preset")
    graphs = preset.load_model().deployment_graphs()
    backend = keras.backend.backend()

    def plain_call(graph, inputs):
        # Converting to numpy waits for the result: JAX returns before computing, and onnxruntime gives numpy.
        return keras.tree.map_structure(keras.ops.convert_to_numpy, graph(inputs))

    rows = []
    for (graph_name, batch), inputs in cases.items():
        graph = graphs[graph_name]
        methods = {"predict_on_batch": lambda: graph.predict_on_batch(inputs), "call": lambda: plain_call(graph, inputs)}
        for method, function in methods.items():
            rows.append({"graph": graph_name, "batch": batch, "runner": f"keras {backend} {method}", **latency(measure(function, repeats), batch)})
    generation = {}
    if preset.metadata["task"] == "language_model":
        run = lambda graph_name, inputs: graphs[graph_name].predict_on_batch(inputs)
        generation[f"keras {backend} predict_on_batch"] = generation_speed(run, preset.tokenizer, repeats)
    return {"rows": rows, "generation": generation}


def main():
    artifact, inputs, repeats = sys.argv[1:]
    with np.load(inputs) as arrays:
        cases = case_inputs(arrays)
    print(json.dumps(time_keras(artifact, cases, int(repeats))))


if __name__ == "__main__":
    main()
