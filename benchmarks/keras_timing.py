"""Timing helpers, and the Keras side of the benchmark: one process per backend.

Run as `python -m benchmarks.keras_timing ARTIFACT INPUTS.npz REPEATS` with KERAS_BACKEND set; it
prints one JSON object on its last stdout line. Keras is imported only in `time_keras`, so that the
parent process can use the helpers without fixing a backend.
"""
import json
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

from zoo.core.decoding import beam_search, chunks, sample_smiles, sample_text
from zoo.core.manifest import read_manifest

GENERATED_CHARACTERS = 200
PROMPT = "ROMEO:"
TEMPERATURE = 0.8
MOLECULES = 64  # a molecule generator's samples, drawn side by side from a line start at temperature 1
SEED = 0
BEAM_WIDTHS = (1, 4)
DECODING_BATCH_SIZES = (1, 64)
SENTENCES_KEY = "sentences"
JITTED = "jax jitted decode (lax.while_loop)"
# A fresh onnxruntime session whose threads spin within a call takes 5-8 calls to reach its steady speed (a char RNN
# sequence at batch 1: 5-14 ms, then 3.9), which a service reaches at once; the untimed calls before each timing last
# this long, for every runner.
WARM_UP_SECONDS = 0.2


def timed(function):
    """A timer: calls `function` and returns the seconds it took."""

    def timer():
        start = time.perf_counter()
        function()
        return time.perf_counter() - start

    return timer


def interleaved(timers, repeats):
    """Each timer's seconds over `repeats` rounds of one call of every timer, after untimed rounds for at least
    WARM_UP_SECONDS (one at least) that compile, fill caches and settle threads: runners compared side by side meet
    the same states of the machine."""
    start = time.perf_counter()
    while True:
        for timer in timers:
            timer()
        if time.perf_counter() - start >= WARM_UP_SECONDS:
            break
    return [list(seconds) for seconds in zip(*([timer() for timer in timers] for _ in range(repeats)))]


def measure(function, repeats):
    """Seconds per call over `repeats` calls, after one untimed call."""
    return interleaved([timed(function)], repeats)[0]


def timing_summary(seconds, batch):
    median = float(np.median(seconds))
    return {"median_ms": 1e3 * median, "p90_ms": 1e3 * float(np.percentile(seconds, 90)), "sequences_per_s": batch / median}


def generation_speed(runner, tokenizer, task, repeats):
    """Characters per second of `sample_text`, or for a molecule generator molecules per second of `sample_smiles`;
    every repeat draws the same samples from the same seed."""
    if task == "molecule_generation":
        seconds = measure(lambda: sample_smiles(runner, tokenizer, "", MOLECULES, 1.0, np.random.default_rng(SEED)), repeats)
        return {"molecules_per_s": MOLECULES / float(np.median(seconds))}
    seconds = measure(lambda: sample_text(runner, tokenizer, PROMPT, GENERATED_CHARACTERS, TEMPERATURE, np.random.default_rng(SEED)), repeats)
    return {"characters_per_s": GENERATED_CHARACTERS / float(np.median(seconds))}


def decoding_repeats(repeats):
    # A beam-4 decoding of 64 sentences is hundreds of Keras calls, too slow to repeat as often as the other runners.
    return max(2, repeats // 3)


def decoding_cases(sentences):
    """(beam width, batch, the sources cut into batches) of every decoding row: each row decodes every source."""
    return [(width, batch, chunks(sentences, batch)) for width in BEAM_WIDTHS for batch in DECODING_BATCH_SIZES]


def decode_all(decode, batches):
    """The results of `decode` over every batch, in order."""
    return [result for batch in batches for result in decode(batch)]


def decoding_row(width, batch, runner, seconds, results):
    """A row of one decoding of every source, timed by its fastest run: this machine's slow phases only ever add
    time, and they come and go within one runner's runs (a jax process once decoded 1.5x slower through all of one
    case's rounds, while onnxruntime, timed in turn with it, did not). `results` (from one run) give how many tokens
    it emitted, end tokens included, for the time per token."""
    tokens, fastest = sum(len(result["ids"]) + 1 for result in results), min(seconds)
    return {"beam_width": width, "batch": batch, "runner": runner, "tokens": tokens, "sequences": len(results), "fastest_ms": 1e3 * fastest, "sequences_per_s": len(results) / fastest}


def decoding_speed(decodes, sentences, runs):
    """Rows of greedy and beam decoding of every source, `batch` at a time, by each `decode(sources, beam)` of
    `decodes` ({runner: decode}), their runs taking turns: the fastest of `runs` runs."""
    rows = []
    for width, batch, batches in decoding_cases(sentences):
        decode_runs = {runner: partial(decode_all, partial(decode, beam=width), batches) for runner, decode in decodes.items()}
        seconds = interleaved([timed(run) for run in decode_runs.values()], runs)
        rows += [decoding_row(width, batch, runner, runner_seconds, run()) for (runner, run), runner_seconds in zip(decode_runs.items(), seconds)]
    return rows


def save_inputs(path, cases, sentences=None):
    """Writes {(graph, batch): inputs} as the flat `graph/batch/input` keys of an .npz file, and the sources to decode if any."""
    arrays = {f"{graph}/{batch}/{name}": value for (graph, batch), inputs in cases.items() for name, value in inputs.items()}
    if sentences is not None:
        arrays |= {f"{SENTENCES_KEY}/{name}": value for name, value in sentences.items()}
    np.savez(path, **arrays)


def load_inputs(path):
    """The cases and sources (None where there are none) written by `save_inputs`."""
    cases = {}
    with np.load(path) as arrays:
        sentences = {}
        for key, value in arrays.items():
            if key.startswith(f"{SENTENCES_KEY}/"):
                sentences[key.split("/")[1]] = value
            else:
                graph, batch, name = key.split("/")
                cases.setdefault((graph, int(batch)), {})[name] = value
    return cases, sentences or None


def time_keras(artifact, cases, sentences, repeats):
    """Timing rows of both ways to run each graph; with jax, the generation speed of a language model and the
    decoding speed of an encoder-decoder by the numpy loop (the jitted decode runs in a process of its own,
    `benchmarks.jax_decoding`, timed in turn with onnxruntime)."""
    import keras

    from zoo.presets import Preset
    from zoo.runner import KerasRunner

    preset = Preset(Path(artifact) / "preset")
    model = preset.load_model()
    runner = KerasRunner(model)
    backend = keras.backend.backend()

    def plain_call(graph, inputs):
        # Converting to numpy waits for the result: JAX returns before computing, and onnxruntime gives numpy.
        return keras.tree.map_structure(keras.ops.convert_to_numpy, graph(inputs))

    rows = []
    for (graph_name, batch), inputs in cases.items():
        graph = runner.keras_graphs[graph_name]
        methods = {"predict_on_batch": lambda: graph.predict_on_batch(inputs), "call": lambda: plain_call(graph, inputs)}
        for method, function in methods.items():
            rows.append({"graph": graph_name, "batch": batch, "runner": f"keras {backend} {method}", **timing_summary(measure(function, repeats), batch)})
    generation, decoding = {}, []
    if backend == "jax":
        name = "keras jax predict_on_batch, numpy loop"
        if runner.graphs.generates_text():
            generation[name] = generation_speed(runner, preset.tokenizer, preset.metadata["task"], repeats)
        max_target_length = read_manifest(artifact)["max_target_length"]
        if max_target_length:
            decoding = decoding_speed({name: lambda sources, beam: beam_search(runner, sources, max_target_length, beam)}, sentences, decoding_repeats(repeats))
    return {"rows": rows, "generation": generation, "decoding": decoding}


def main():
    artifact, inputs, repeats = sys.argv[1:]
    print(json.dumps(time_keras(artifact, *load_inputs(inputs), int(repeats))))


if __name__ == "__main__":
    main()
