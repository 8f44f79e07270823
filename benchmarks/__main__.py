"""`python -m benchmarks`: latency, throughput, and generation or translation speed of each preset, onnxruntime against Keras.

Each preset is exported to a temporary folder (or its artifact reused from --artifacts DIR/<preset>),
then timed with onnxruntime in this process and with Keras in one subprocess per backend: the backend
is fixed when keras is first imported, so this process never imports it. Every runner gets the same inputs.
"""
import argparse
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.keras_timing import (
    DECODING_BATCH_SIZES,
    GENERATED_CHARACTERS,
    PROMPT,
    TEMPERATURE,
    decoding_repeats,
    decoding_speed,
    generation_speed,
    measure,
    save_inputs,
    timing_summary,
)
from export.artifact import export_preset
from export.parity import random_input
from serving.artifact import Artifact
from zoo.core.errors import ZooError
from training.recipes import RECIPES
from zoo.presets import preset_names

BACKENDS = ("tensorflow", "jax", "torch")
BATCH_SIZES = (1, 64)
SEQUENCE_LENGTH = 64
DEFAULT_REPEATS = 10
SEED = 0
REPOSITORY = Path(__file__).resolve().parents[1]
VERSIONED_PACKAGES = ("onnxruntime", "keras", "tensorflow-cpu", "jax", "torch")


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--presets", default=",".join(preset_names()), help="comma-separated preset names (default: every shipped preset)")
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS, help=f"timed calls per measurement (default {DEFAULT_REPEATS})")
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
        (graph, batch): {tensor["name"]: random_input(tensor, batch, SEQUENCE_LENGTH, manifest["vocab_sizes"], rng, pad=False) for tensor in spec["inputs"]}
        for graph, spec in manifest["graphs"].items()
        for batch in BATCH_SIZES
    }


def decoding_inputs(artifact):
    """Encoder inputs of the task's benchmark sentences or images, one per decoded row."""
    return RECIPES[artifact.manifest["preset"]].task_module.benchmark_inputs(artifact.tokenizer, max(DECODING_BATCH_SIZES), SEED)


def time_onnxruntime(artifact, cases, sentences, repeats):
    rows = []
    for (graph, batch), inputs in cases.items():
        seconds = measure(lambda: artifact.run(graph, inputs), repeats)
        rows.append({"graph": graph, "batch": batch, "runner": "onnxruntime cpu", **timing_summary(seconds, batch)})
    generation = {}
    if artifact.manifest["task"] == "language_model":
        generation["onnxruntime cpu"] = generation_speed(artifact.run, artifact.tokenizer, repeats)
    decoding = []
    if artifact.manifest["max_target_length"]:
        decoding = decoding_speed(artifact.run, sentences, artifact.manifest["max_target_length"], repeats, "onnxruntime cpu")
    return {"rows": rows, "generation": generation, "decoding": decoding}


def time_keras_backend(folder, inputs_path, backend, repeats):
    """Rows, generation and decoding speeds from `benchmarks.keras_timing` run with KERAS_BACKEND=backend."""
    environment = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.keras_timing", str(folder), str(inputs_path), str(repeats)],
        env=environment, cwd=REPOSITORY, capture_output=True, text=True,
    )
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or [f"exit code {result.returncode}"]
        raise ZooError(f"timing Keras on {backend} failed: {lines[-1]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def benchmark_preset(folder, repeats, scratch):
    """The manifest, every timing row, the generation speeds and the decoding rows of one artifact, on every runner."""
    artifact = Artifact(folder)
    cases = benchmark_inputs(artifact.manifest)
    sentences = decoding_inputs(artifact) if artifact.manifest["max_target_length"] else None
    inputs_path = Path(scratch) / f"{artifact.manifest['preset']}-inputs.npz"
    save_inputs(inputs_path, cases, sentences)
    results = [time_onnxruntime(artifact, cases, sentences, repeats)] + [time_keras_backend(folder, inputs_path, backend, repeats) for backend in BACKENDS]
    rows = sorted((row for result in results for row in result["rows"]), key=lambda row: (row["graph"], row["batch"]))
    generation = {runner: speed for result in results for runner, speed in result["generation"].items()}
    decoding = sorted((row for result in results for row in result["decoding"]), key=lambda row: (row["beam_width"], row["batch"]))
    return artifact.manifest, rows, generation, decoding


def format_tables(manifest, rows, generation, decoding, repeats):
    lines = [
        f"### {manifest['preset']} ({manifest['task']})",
        "",
        f"Median and p90 of {repeats} timed calls after one warm-up call; every time axis holds {SEQUENCE_LENGTH} positions, so "
        f"`sequence` and `encoder` read {SEQUENCE_LENGTH} tokens per sequence, `step` and `decoder_step` one token; sequences/s = batch / median.",
        "",
        "| graph | batch | runner | median ms | p90 ms | sequences/s |",
        "|---|--:|---|--:|--:|--:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['graph']} | {row['batch']} | {row['runner']} | {row['median_ms']:.3f} | {row['p90_ms']:.3f} | {row['sequences_per_s']:,.0f} |"
        )
    if generation:
        lines += [
            "",
            f"Generation: {GENERATED_CHARACTERS} characters after the prompt {PROMPT!r} at temperature {TEMPERATURE}, "
            f"with `zoo.core.decoding.sample_text`; median of {repeats} runs.",
            "",
            "| runner | characters/s |",
            "|---|--:|",
        ]
        lines += [f"| {runner} | {speed['characters_per_s']:,.0f} |" for runner, speed in generation.items()]
    if decoding:
        lines += [
            "",
            f"Decoding: {RECIPES[manifest['preset']].task_module.BENCHMARK_SOURCES.format(count=max(DECODING_BATCH_SIZES), seed=SEED)}, "
            f"batch b decoding the first b of them with `zoo.core.decoding.beam_search` (at most {manifest['max_target_length']} tokens); "
            f"median of {decoding_repeats(repeats)} runs after one warm-up run (max(2, repeats // 3): decoding is slow); a sequence is one translation or caption, sequences/s = batch / median.",
            "",
            "| decoding | batch | runner | ms per batch (median) | ms per sequence | sequences/s |",
            "|---|--:|---|--:|--:|--:|",
        ]
        for row in decoding:
            decoding_name = "greedy" if row["beam_width"] == 1 else f"beam {row['beam_width']}"
            lines.append(
                f"| {decoding_name} | {row['batch']} | {row['runner']} | {row['median_ms']:,.1f} | {row['median_ms'] / row['batch']:,.2f} | {row['sequences_per_s']:,.1f} |"
            )
    return "\n".join(lines)


def machine_description():
    versions = ", ".join(f"{package} {importlib.metadata.version(package)}" for package in VERSIONED_PACKAGES)
    return (
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()}; "
        f"Python {platform.python_version()}; {versions}."
    )


def main(argv=None):
    arguments = parse_arguments(argv)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            for preset in arguments.presets.split(","):
                folder = artifact_folder(preset, arguments.artifacts, scratch)
                print(format_tables(*benchmark_preset(folder, arguments.repeats, scratch), arguments.repeats), end="\n\n", flush=True)
    except ZooError as error:
        sys.exit(f"error: {error}")
    print(machine_description())


if __name__ == "__main__":
    main()
