"""`python -m benchmarks`: latency, throughput and generation speed of each preset, onnxruntime against Keras.

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

from benchmarks.keras_timing import GENERATED_CHARACTERS, PROMPT, TEMPERATURE, generation_speed, measure, save_cases, timing_summary
from export.artifact import export_preset
from export.parity import random_input
from serving.artifact import Artifact
from serving.errors import ZooError
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
    vocab_size = len(manifest["tokenizer"]["chars"]) + 1
    return {
        (graph, batch): {tensor["name"]: random_input(tensor, batch, SEQUENCE_LENGTH, vocab_size, rng, pad=False) for tensor in spec["inputs"]}
        for graph, spec in manifest["graphs"].items()
        for batch in BATCH_SIZES
    }


def time_onnxruntime(artifact, cases, repeats):
    rows = []
    for (graph, batch), inputs in cases.items():
        seconds = measure(lambda: artifact.run(graph, inputs), repeats)
        rows.append({"graph": graph, "batch": batch, "runner": "onnxruntime cpu", **timing_summary(seconds, batch)})
    generation = {}
    if artifact.manifest["task"] == "language_model":
        generation["onnxruntime cpu"] = generation_speed(artifact.run, artifact.tokenizer, repeats)
    return {"rows": rows, "generation": generation}


def time_keras_backend(folder, inputs_path, backend, repeats):
    """Rows and generation speeds from `benchmarks.keras_timing` run with KERAS_BACKEND=backend."""
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
    """The manifest, every timing row and the generation speeds of one artifact, on every runner."""
    artifact = Artifact(folder)
    cases = benchmark_inputs(artifact.manifest)
    inputs_path = Path(scratch) / f"{artifact.manifest['preset']}-inputs.npz"
    save_cases(inputs_path, cases)
    results = [time_onnxruntime(artifact, cases, repeats)] + [time_keras_backend(folder, inputs_path, backend, repeats) for backend in BACKENDS]
    rows = sorted((row for result in results for row in result["rows"]), key=lambda row: (row["graph"], row["batch"]))
    generation = {runner: speed for result in results for runner, speed in result["generation"].items()}
    return artifact.manifest, rows, generation


def format_tables(manifest, rows, generation, repeats):
    lines = [
        f"### {manifest['preset']} ({manifest['task']})",
        "",
        f"Median and p90 of {repeats} timed calls after one warm-up call; `sequence` reads {SEQUENCE_LENGTH} tokens per sequence, "
        "`step` one token; sequences/s = batch / median.",
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
            f"with `serving.decoding.sample_text`; median of {repeats} runs.",
            "",
            "| runner | characters/s |",
            "|---|--:|",
        ]
        lines += [f"| {runner} | {speed['characters_per_s']:,.0f} |" for runner, speed in generation.items()]
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
