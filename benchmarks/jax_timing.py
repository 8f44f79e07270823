"""`python -m benchmarks.jax_timing ARTIFACT INPUTS.npz`: the JAX side of the benchmark's side-by-side rows, in a jax
process of its own that times one call at a time on request.

It loads the preset and compiles the jitted decode (`benchmarks.jax_decoding`) of every decoding case, then answers
with one JSON line: the keys of its timers (each case's graph calls by Keras-jax, `timer_key`, and each decoding
case, `decoding K`) and each decoding case's compile seconds and ids. For each line it then reads, a timer's key, it
runs that timer once and answers with the seconds. `python -m benchmarks` asks in turn with onnxruntime's runs, so
that both meet the same states of the machine; between requests the process sleeps.
"""
import json
import sys
from functools import partial
from pathlib import Path

from benchmarks.jax_decoding import jitted_decoding
from benchmarks.keras_timing import decode_all, decoding_cases, graph_calls, load_inputs, timed
from zoo.core.errors import ZooError
from zoo.core.manifest import read_manifest
from zoo.presets import Preset
from zoo.runner import KerasRunner


def main():
    answers, sys.stdout = sys.stdout, sys.stderr  # anything else printed must not be read as an answer
    artifact, inputs = sys.argv[1:]
    try:
        model = Preset(Path(artifact) / "preset").load_model()
    except ZooError as error:
        sys.exit(f"error: {error}")
    cases, sentences = load_inputs(inputs)
    timers = {key: timed(call) for key, call in graph_calls(KerasRunner(model), cases).items()}
    decodings = []
    for case, (width, _, batches) in enumerate(decoding_cases(sentences) if sentences is not None else ()):
        decode = jitted_decoding(model, read_manifest(artifact)["max_target_length"], width)
        compile_seconds = timed(lambda: decode(batches[0]))() - timed(lambda: decode(batches[0]))()  # every batch has the same shape: one compilation
        timers[f"decoding {case}"] = timed(partial(decode_all, decode, batches))
        decodings.append({"compile_s": compile_seconds, "ids": [result["ids"] for result in decode_all(decode, batches)]})
    print(json.dumps({"timers": list(timers), "decodings": decodings}), file=answers, flush=True)
    for line in sys.stdin:
        print(timers[line.strip()](), file=answers, flush=True)


if __name__ == "__main__":
    main()
