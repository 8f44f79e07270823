"""`python -m benchmarks`: graph latency, generation and decoding speed of each preset, onnxruntime against Keras, side by side.

Each preset is exported to a temporary folder (or its artifact reused from --artifacts DIR/<preset>), then timed with
onnxruntime in this process and with Keras in one subprocess per backend: the backend is fixed when keras is first
imported, so this process never imports it. Every runner gets the same inputs.

Graph tables time each graph with onnxruntime on one thread and on every core, and a `sequence` graph over more than
`GRAPH_SEARCH_ROWS` rows also as serving runs it: cut into one part per core, run side by side, each on one thread.

Decoding tables compare, on the same sources:
- onnxruntime serving: what `python -m serving` runs (`serving.runtime.Runtime.decode`): batches of up to
  `GRAPH_SEARCH_ROWS` sources in one call of the `greedy_search` or `beam_search` graph; larger ones dealt in turn
  to parts decoded side by side, one per core, each on one thread;
- the other way, which serving does not take at that batch size: step by step at batch 1, the search graph at 64;
- the onnxruntime floor: the graph calls that a step-by-step search made over the decoder step (encoder once, decoder
  step once per step), replayed alone from their recorded inputs: what the numpy loop would take with free
  bookkeeping, the ranking of candidates included;
- the jitted JAX decode (`benchmarks.jax_decoding`): encoder and search in one XLA program, the best a Keras user
  gets without exporting. It is compiled in a jax process of its own, which times one run at a time on request, so
  that every round of the timing runs each onnxruntime runner and then JAX once: machines drift by 10-30% over
  minutes, and runners timed in turn meet the same drift. Each decoding row keeps its fastest run;
- the same numpy loop over Keras-jax `predict_on_batch`.
"""
import argparse
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

import numpy as np

from benchmarks.keras_timing import (
    DECODING_BATCH_SIZES,
    GENERATED_CHARACTERS,
    JITTED,
    MOLECULES,
    PROMPT,
    TEMPERATURE,
    WARM_UP_SECONDS,
    decode_all,
    decoding_cases,
    decoding_repeats,
    decoding_row,
    generation_speed,
    interleaved,
    measure,
    save_inputs,
    timed,
    timing_summary,
)
from export.artifact import export_preset
from export.parity import held_out_inputs, random_input, traced_graphs
from serving.artifact import CORES, Artifact
from serving.runtime import Runtime
from zoo.core.backends import BACKENDS, backend_environment, run_python
from zoo.core.contract import EXPORTED_KINDS, SEARCH_KINDS
from zoo.core.decoding import GRAPH_SEARCH_ROWS, Without, beam_search, graph_beam_search, graph_search, rows_of, take
from zoo.core.errors import ZooError
from zoo.presets import preset_names

BATCH_SIZES = (1, 64)
SEQUENCE_LENGTH = 64
DEFAULT_REPEATS = 10
SEED = 0
REPOSITORY = Path(__file__).resolve().parents[1]
VERSIONED_PACKAGES = ("onnxruntime", "keras", "tensorflow-cpu", "jax", "torch")
THREADS = (1, os.cpu_count() or 1)


def parse_arguments(argv, prog="python -m benchmarks", description=__doc__, repeats=DEFAULT_REPEATS):
    """The options of `python -m benchmarks` and of the benchmarks that time presets the same way (`benchmarks.threads`)."""
    parser = argparse.ArgumentParser(prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", default=",".join(preset_names()), help="comma-separated preset names (default: every shipped preset)")
    parser.add_argument("--repeats", type=int, default=repeats, help=f"timed calls per measurement, a third of them for decoding (default {repeats})")
    parser.add_argument("--artifacts", type=Path, help="reuse the artifact DIR/<preset> where it exists instead of exporting")
    arguments = parser.parse_args(argv)
    if arguments.repeats < 1:
        parser.error("--repeats must be at least 1")
    return arguments


def artifact_folder(preset, artifacts, scratch):
    if artifacts is not None and (artifacts / preset / "manifest.json").is_file():
        return artifacts / preset
    print(f"exporting {preset} ...", file=sys.stderr, flush=True)
    return export_preset(preset, Path(scratch) / preset, formats=("onnx",))


def benchmark_inputs(manifest):
    """{(graph, batch): inputs} for every graph at every batch size, from a fixed seed."""
    rng = np.random.default_rng(SEED)
    return {
        (graph, batch): {tensor["name"]: random_input(tensor, batch, SEQUENCE_LENGTH, manifest, rng, pad=False) for tensor in spec["inputs"]}
        for graph, spec in traced_graphs(manifest).items()
        for batch in BATCH_SIZES
    }


def decoding_inputs(artifact):
    """The largest decoding batch of held-out sources, evenly spread over the set (which may be sorted by length)."""
    sources = held_out_inputs(artifact)
    return take(sources, np.linspace(0, rows_of(sources) - 1, max(DECODING_BATCH_SIZES)).round().astype(int))


class JittedDecoding:
    """The jitted JAX decode of every decoding case, compiled in a jax process of its own
    (`python -m benchmarks.jax_decoding`), which times one run of a case on request: its runs then take turns with
    onnxruntime's, in this process, instead of preceding them by minutes."""

    def __init__(self, folder, inputs_path, scratch):
        self.errors = Path(scratch) / "jax_decoding.err"
        command = [sys.executable, "-m", "benchmarks.jax_decoding", str(folder), str(inputs_path)]
        with self.errors.open("w") as errors:
            self.process = subprocess.Popen(command, env=backend_environment("jax"), cwd=REPOSITORY, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, text=True)
        self.cases = json.loads(self.answer())

    def answer(self):
        line = self.process.stdout.readline()
        if not line:
            lines = [line for line in self.errors.read_text().splitlines() if line.strip()]
            raise ZooError(f"the jitted JAX decode: {lines[-1].removeprefix('error: ') if lines else f'exit code {self.process.wait()}'}")
        return line

    def timer(self, case):
        """A timer of one run of the case's decoding, which the JAX process measures itself."""

        def seconds():
            self.process.stdin.write(f"{case}\n")
            self.process.stdin.flush()
            return float(self.answer())

        return seconds

    def row(self, case, width, batch, seconds):
        results = [{"ids": ids} for ids in self.cases[case]["ids"]]
        return decoding_row(width, batch, JITTED, seconds, results) | {"compile_s": self.cases[case]["compile_s"]}

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.process.stdin.close()
        self.process.wait()


class Recorder:
    """A runner that records every graph call a search makes, with its inputs, for the floor to replay."""

    def __init__(self, artifact):
        self.artifact, self.graphs, self.calls = artifact, artifact.graphs, []

    def run(self, graph, inputs):
        self.calls.append((graph, inputs))
        return self.artifact.run(graph, inputs)


def time_onnxruntime(folder, cases, repeats):
    rows = []
    for threads in THREADS:
        artifact = Artifact(folder, threads=threads)
        for (graph, batch), inputs in cases.items():
            rows.append({"graph": graph, "batch": batch, "runner": f"onnxruntime cpu, {threads} thread{'s' * (threads > 1)}", **timing_summary(measure(lambda: artifact.run(graph, inputs), repeats), batch)})
    artifact = Artifact(folder)
    for (graph, batch), inputs in cases.items():
        if artifact.runs_in_parts(graph, batch):
            rows.append({"graph": graph, "batch": batch, "runner": SEQUENCE_PARTS, **timing_summary(measure(lambda: artifact.run(graph, inputs), repeats), batch)})
    generation = {}
    if artifact.graphs.generates_text():
        generation["onnxruntime cpu"] = generation_speed(artifact, artifact.tokenizer, artifact.manifest["task"], repeats)
    return {"rows": rows, "generation": generation, "decoding": []}


def time_decoding(folder, sentences, repeats, jitted):
    """The decoding rows of onnxruntime and of the jitted JAX decode, each run of every runner in turn."""
    artifact = Artifact(folder)
    runtime, max_length, decoding = Runtime(artifact), artifact.manifest["max_target_length"], []
    for case, (width, batch, batches) in enumerate(decoding_cases(sentences)):
        recorder = Recorder(Without(artifact, *EXPORTED_KINDS))
        results = decode_all(partial(beam_search, recorder, max_length=max_length, beam_width=width), batches)
        runs = {
            SERVED: partial(decode_all, partial(runtime.decode, beam=width), batches),
            FLOOR: lambda: [artifact.run(graph, inputs) for graph, inputs in recorder.calls],
        }
        if artifact.graphs.has("beam_search"):  # the way serving does not search at this batch size
            if batch <= GRAPH_SEARCH_ROWS:
                name, decode = STEPPED, partial(beam_search, Without(artifact, *SEARCH_KINDS), max_length=max_length, beam_width=width)
            elif width == 1:
                name, decode = GRAPH, partial(graph_search, artifact, max_length=max_length)
            else:
                name, decode = GRAPH, partial(graph_beam_search, artifact, max_length=max_length, beam_width=width)
            runs[name] = partial(decode_all, decode, batches)
        *seconds, jitted_seconds = interleaved([*map(timed, runs.values()), jitted.timer(case)], repeats)
        decoding += [decoding_row(width, batch, runner, runner_seconds, results) for runner, runner_seconds in zip(runs, seconds)]
        decoding.append(jitted.row(case, width, batch, jitted_seconds))
    return {"rows": [], "generation": {}, "decoding": decoding}


def benchmark_preset(folder, repeats, scratch):
    """The manifest, every timing row, the generation speeds and the decoding rows of one artifact, on every runner."""
    artifact = Artifact(folder)
    cases = benchmark_inputs(artifact.manifest)
    sentences = decoding_inputs(artifact) if artifact.manifest["max_target_length"] else None
    inputs_path = Path(scratch) / f"{artifact.manifest['preset']}-inputs.npz"
    save_inputs(inputs_path, cases, sentences)
    keras = [
        json.loads(run_python(["-m", "benchmarks.keras_timing", str(folder), str(inputs_path), str(repeats)], backend, what=f"timing Keras on {backend}", cwd=REPOSITORY).strip().splitlines()[-1])
        for backend in BACKENDS
    ]
    results = [time_onnxruntime(folder, cases, repeats), *keras]
    if sentences is not None:
        with JittedDecoding(folder, inputs_path, scratch) as jitted:
            results.append(time_decoding(folder, sentences, repeats, jitted))
    rows = sorted((row for result in results for row in result["rows"]), key=lambda row: (row["graph"], row["batch"]))
    generation = {runner: speed for result in results for runner, speed in result["generation"].items()}
    decoding = sorted((row for result in results for row in result["decoding"]), key=lambda row: (row["beam_width"], row["batch"]))
    return artifact.manifest, rows, generation, decoding


def format_tables(manifest, rows, generation, decoding, repeats):
    lines = [
        f"### {manifest['preset']} ({manifest['task']})",
        "",
        f"Median and p90 of {repeats} timed calls after {WARM_UP_SECONDS} s of warm-up calls; every time axis holds {SEQUENCE_LENGTH} positions, so "
        f"`sequence` and `encoder` read {SEQUENCE_LENGTH} tokens per sequence, `step` and `decoder_step` one token; sequences/s = batch / median.",
        "",
        "| graph | batch | runner | median ms | p90 ms | sequences/s |",
        "|---|--:|---|--:|--:|--:|",
    ]
    for row in rows:
        lines.append(f"| {row['graph']} | {row['batch']} | {row['runner']} | {row['median_ms']:.3f} | {row['p90_ms']:.3f} | {row['sequences_per_s']:,.0f} |")
    if generation:
        unit = "molecules" if manifest["task"] == "molecule_generation" else "characters"
        what = {
            "molecules": f"{MOLECULES} molecules sampled side by side from a line start at temperature 1, with `zoo.core.decoding.sample_smiles`",
            "characters": f"{GENERATED_CHARACTERS} characters after the prompt {PROMPT!r} at temperature {TEMPERATURE}, with `zoo.core.decoding.sample_text`",
        }[unit]
        lines += ["", f"Generation: {what}; median of {repeats} runs.", "", f"| runner | {unit}/s |", "|---|--:|"]
        lines += [f"| {runner} | {speed[f'{unit}_per_s']:,.0f} |" for runner, speed in generation.items()]
    if decoding:
        lines += [
            "",
            f"Decoding: {max(DECODING_BATCH_SIZES)} held-out sources spread evenly over the preset's held-out set, every row decoding all "
            f"of them, b at a time (at most {manifest['max_target_length']} tokens each); the fastest of {repeats} runs after {WARM_UP_SECONDS} s of warm-up runs (one at least), "
            f"the onnxruntime runners and the jitted JAX decode in turn ({decoding_repeats(repeats)} runs for the numpy loop over Keras-jax, "
            "hundreds of Keras calls a run); tokens are those the search emitted, end tokens included.",
            "",
            f"| decoding | batch | runner | ms for all {max(DECODING_BATCH_SIZES)} (fastest run) | ms per sequence | ms per token | sequences/s |",
            "|---|--:|---|--:|--:|--:|--:|",
        ]
        for row in decoding:
            name = "greedy" if row["beam_width"] == 1 else f"beam {row['beam_width']}"
            lines.append(
                f"| {name} | {row['batch']} | {row['runner']} | {row['fastest_ms']:,.1f} | {row['fastest_ms'] / row['sequences']:,.2f} | "
                f"{row['fastest_ms'] / row['tokens']:,.3f} | {row['sequences_per_s']:,.1f} |"
            )
        compiled = [row["compile_s"] for row in decoding if "compile_s" in row]
        lines += ["", f"The jitted JAX decode compiles once per batch size and beam width, {min(compiled):.1f} to {max(compiled):.1f} s here, not counted above."]
    return "\n".join(lines)


SERVED, FLOOR = "onnxruntime serving", "onnxruntime floor (encoder, decoder_step calls only)"
SEQUENCE_PARTS = f"onnxruntime serving: {CORES} parts side by side, 1 thread each"
STEPPED, GRAPH = "onnxruntime step by step (numpy loop)", "onnxruntime search graph (one call)"


def format_summary(decodings):
    """One line per preset, decoding and batch: serving against its floor and against the jitted JAX decode."""
    lines = [
        "### Summary: onnxruntime serving against the jitted JAX decode and against its own floor",
        "",
        "Milliseconds per sequence of each runner's fastest run in the decoding tables above.",
        "",
        "| preset | decoding | batch | serving ms/sequence | floor | jitted JAX | JAX time / serving time | serving time / floor |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for preset, rows in decodings.items():
        by_case = {}
        for row in rows:
            by_case.setdefault((row["beam_width"], row["batch"]), {})[row["runner"]] = row["fastest_ms"] / row["sequences"]
        for (width, batch), times in by_case.items():
            served, floor, jitted = times[SERVED], times[FLOOR], times[JITTED]
            name = "greedy" if width == 1 else f"beam {width}"
            lines.append(f"| {preset} | {name} | {batch} | {served:,.2f} | {floor:,.2f} | {jitted:,.2f} | **{jitted / served:.2f}x** | {served / floor:.2f}x |")
    return "\n".join(lines)


def machine_description():
    versions = ", ".join(f"{package} {importlib.metadata.version(package)}" for package in VERSIONED_PACKAGES)
    return f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()}; Python {platform.python_version()}; {versions}."


def main(argv=None):
    arguments = parse_arguments(argv)
    decodings = {}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            for preset in arguments.presets.split(","):
                manifest, rows, generation, decoding = benchmark_preset(artifact_folder(preset, arguments.artifacts, scratch), arguments.repeats, scratch)
                print(format_tables(manifest, rows, generation, decoding, arguments.repeats), end="\n\n", flush=True)
                if decoding:
                    decodings[preset] = decoding
    except ZooError as error:
        sys.exit(f"error: {error}")
    if decodings:
        print(format_summary(decodings), end="\n\n")
    print(machine_description())


if __name__ == "__main__":
    main()
