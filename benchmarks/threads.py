"""`python -m benchmarks.threads`: serving's decoding and generation under five onnxruntime thread settings, side by
side in one process: every graph on one thread; every graph on every core, its threads sleeping between the nodes of
a call or spinning within a call (both sleep between calls); and the two that serving runs, where batches of more than
GRAPH_SEARCH_ROWS sources are dealt to parts decoded side by side, one per core, each on one thread: the HTTP
service's (threads sleeping, the search graphs on one thread) and `python -m serving`'s (threads spinning within a
call).
Decoding is `python -m benchmarks`' (64 held-out sources at batch 1 and 64, greedy and beam 4) in ms per sequence of
the fastest run, each round running every setting once; generation is in characters or molecules per second (the
median run).
"""
import sys
import tempfile

from benchmarks.__main__ import artifact_folder, decoding_inputs, machine_description, parse_arguments
from benchmarks.keras_timing import decoding_speed, generation_speed
from serving.artifact import CORES, Artifact
from serving.runtime import Runtime
from zoo.core.errors import ZooError

SETTINGS = {
    "1 thread": {"threads": 1},
    "every core, sleeping": {"threads": CORES, "spinning": False},
    "every core, spinning within a call": {"threads": CORES},
    "service (--http): sleeping, searches on 1 thread, parts": {"spinning": False},
    "python -m serving: spinning within a call, parts": {},
}


def preset_rows(folder, repeats):
    """{(what, batch): {setting: speed}} of one artifact: ms per sequence for each decoding, the settings' runs taking
    turns (the fastest of `repeats`), and samples/s for generation."""
    artifacts = {setting: Artifact(folder, **options) for setting, options in SETTINGS.items()}
    first = next(iter(artifacts.values()))
    rows = {}
    if first.manifest["max_target_length"]:
        sentences = decoding_inputs(first)  # the same sources for every setting, read once
        for row in decoding_speed({setting: Runtime(artifact).decode for setting, artifact in artifacts.items()}, sentences, repeats):
            what = "greedy" if row["beam_width"] == 1 else f"beam {row['beam_width']}"
            rows.setdefault((what, row["batch"]), {})[row["runner"]] = f"{row['fastest_ms'] / row['sequences']:,.2f}"
    if first.graphs.generates_text():
        unit = "molecules" if first.manifest["task"] == "molecule_generation" else "characters"
        for setting, artifact in artifacts.items():
            speed = generation_speed(artifact, artifact.tokenizer, first.manifest["task"], repeats)[f"{unit}_per_s"]
            rows.setdefault((f"generation, {unit}/s", ""), {})[setting] = f"{speed:,.0f}"
    return rows


def main(argv=None):
    arguments = parse_arguments(argv, "python -m benchmarks.threads", __doc__, repeats=6)
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
