"""Timing helpers, and the Keras side of the benchmark: one process per backend.

Run as `python -m benchmarks.keras_timing ARTIFACT INPUTS.npz REPEATS` with KERAS_BACKEND set; it
prints one JSON object on its last stdout line. Keras is imported only in `time_keras`, so that the
parent process can use the helpers without fixing a backend.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

from serving.decoding import sample_text

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


def timing_summary(seconds, batch):
    median = float(np.median(seconds))
    return {"median_ms": 1e3 * median, "p90_ms": 1e3 * float(np.percentile(seconds, 90)), "sequences_per_s": batch / median}


def generation_speed(run, tokenizer, repeats):
    """Characters per second of `sample_text`, every repeat drawing the same text from the same seed."""

    def generate():
        sample_text(run, tokenizer, PROMPT, GENERATED_CHARACTERS, TEMPERATURE, np.random.default_rng(SEED))

    return {"characters_per_s": GENERATED_CHARACTERS / float(np.median(measure(generate, repeats)))}


def save_cases(path, cases):
    """Writes {(graph, batch): inputs} as the flat `graph/batch/input` keys of an .npz file."""
    np.savez(path, **{f"{graph}/{batch}/{name}": value for (graph, batch), inputs in cases.items() for name, value in inputs.items()})


def load_cases(path):
    cases = {}
    with np.load(path) as arrays:
        for key, value in arrays.items():
            graph, batch, name = key.split("/")
            cases.setdefault((graph, int(batch)), {})[name] = value
    return cases


def time_keras(artifact, cases, repeats):
    """Timing rows of both ways to run each graph, and the generation speed of a language model."""
    import keras

    from zoo.presets import Preset

    preset = Preset(Path(artifact) / "preset")
    graphs = preset.load_model().deployment_graphs()
    backend = keras.backend.backend()

    def plain_call(graph, inputs):
        # Converting to numpy waits for the result: JAX returns before computing, and onnxruntime gives numpy.
        return keras.tree.map_structure(keras.ops.convert_to_numpy, graph(inputs))

    def run(graph_name, inputs):
        return graphs[graph_name].predict_on_batch(inputs)

    rows = []
    for (graph_name, batch), inputs in cases.items():
        graph = graphs[graph_name]
        methods = {"predict_on_batch": lambda: graph.predict_on_batch(inputs), "call": lambda: plain_call(graph, inputs)}
        for method, function in methods.items():
            rows.append({"graph": graph_name, "batch": batch, "runner": f"keras {backend} {method}", **timing_summary(measure(function, repeats), batch)})
    generation = {}
    if preset.metadata["task"] == "language_model":
        generation[f"keras {backend} predict_on_batch"] = generation_speed(run, preset.tokenizer, repeats)
    return {"rows": rows, "generation": generation}


def main():
    artifact, inputs, repeats = sys.argv[1:]
    print(json.dumps(time_keras(artifact, load_cases(inputs), int(repeats))))


if __name__ == "__main__":
    main()
