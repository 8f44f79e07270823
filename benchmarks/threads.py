"""`python -m benchmarks.threads`: serving's decoding and generation under three onnxruntime thread settings, side by
side in one process: one thread; every core with the threads spinning between calls (onnxruntime's default); every
core with them sleeping, which is what serving runs. Decoding is `python -m benchmarks`' (64 held-out sources at
batch 1 and 64, greedy and beam 4) in ms per sequence; generation is in characters or molecules per second.
"""
import argparse
import sys
import tempfile
from pathlib import Path

from benchmarks.__main__ import artifact_folder, decoding_inputs, machine_description
from benchmarks.keras_timing import decoding_speed, generation_speed
from serving.artifact import Artifact
from zoo.core.errors import ZooError
from zoo.presets import preset_names

SETTINGS = {"1 thread": {"threads": 1}, "every core, spinning": {"spinning": True}, "every core, sleeping (serving)": {}}


def preset_rows(folder, repeats):
    """{(what, batch): {setting: speed}} of one artifact: ms per sequence for each decoding, samples/s for generation."""
    rows = {}
    for setting, options in SETTINGS.items():
        artifact = Artifact(folder, **options)
        max_length, task = artifact.manifest["max_target_length"], artifact.manifest["task"]
        if max_length:
            for row in decoding_speed(artifact, decoding_inputs(artifact), max_length, repeats, setting):
                what = "greedy" if row["beam_width"] == 1 else f"beam {row['beam_width']}"
                rows.setdefault((what, row["batch"]), {})[setting] = f"{row['median_ms'] / row['sequences']:,.2f}"
        if artifact.graphs.generates_text():
            unit = "molecules" if task == "molecule_generation" else "characters"
            speed = generation_speed(artifact, artifact.tokenizer, task, repeats)[f"{unit}_per_s"]
            rows.setdefault((f"generation, {unit}/s", ""), {})[setting] = f"{speed:,.0f}"
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.threads", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", default=",".join(preset_names()), help="comma-separated preset names (default: every shipped preset)")
    parser.add_argument("--repeats", type=int, default=6, help="timed runs are a third of this, at least 2 (default 6)")
    parser.add_argument("--artifacts", type=Path, help="reuse the artifact DIR/<preset> where it exists instead of exporting")
    arguments = parser.parse_args(argv)
    if arguments.repeats < 1:
        parser.error("--repeats must be at least 1")
    print(f"| preset | decoding | batch | {' | '.join(SETTINGS)} |\n|---|---|--:|{'--:|' * len(SETTINGS)}", flush=True)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            for preset in arguments.presets.split(","):
                for (what, batch), speeds in preset_rows(artifact_folder(preset, arguments.artifacts, scratch), arguments.repeats).items():
                    print(f"| {preset} | {what} | {batch} | {' | '.join(speeds[setting] for setting in SETTINGS)} |", flush=True)
    except ZooError as error:
        sys.exit(f"error: {error}")
    print(f"\n{machine_description()}")


if __name__ == "__main__":
    main()
