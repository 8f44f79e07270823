"""The parity gate: every output of every graph, onnxruntime against Keras on each backend and the SavedModel.

Inputs cover batch sizes {1, 3, 64} and, for graphs with a time axis, lengths {1, 7, 300}, with
padding in every batch of more than one row; lengths far from the traced one catch a frozen time
axis. A difference above `ATOL + RTOL * |onnxruntime|` fails the gate.
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from serving.artifact import Artifact, read_manifest
from serving.errors import ZooError

# fp32 on CPU. The issue asked for atol 1e-5, but Keras itself is not that consistent: on
# char_rnn_shakespeare (batch 64, length 300) Keras-tensorflow and Keras-jax logits differ by up
# to 1.43e-5, and onnxruntime sits between them (1.10e-5 and 1.24e-5 away). 2e-5 is the smallest
# round bound above that fp32 noise; real export bugs measured here are 1e-3 and larger.
ATOL = 2e-5
RTOL = 1e-5
BATCH_SIZES = (1, 3, 64)
LENGTHS = (1, 7, 300)
BACKENDS = ("tensorflow", "jax", "torch")


def random_input(spec, batch, length, vocab_size, rng, pad=True):
    """A random tensor for a manifest input spec; token rows after the first are cut short by padding if `pad`."""
    shape = [batch if size == "batch" else length if size == "time" else size for size in spec["shape"]]
    if spec["dtype"] == "int32":
        ids = rng.integers(1, vocab_size, size=shape).astype("int32")
        if pad and "time" in spec["shape"]:
            for row in ids[1:]:
                row[rng.integers(1, length + 1) :] = 0
        return ids
    return rng.uniform(-1, 1, size=shape).astype(spec["dtype"])


def parity_cases(manifest, seed=0):
    """{"graph/b{batch}/t{length}": (graph, inputs)} over the batch sizes and, where there is a time axis, lengths."""
    rng = np.random.default_rng(seed)
    vocab_size = len(manifest["tokenizer"]["chars"]) + 1
    cases = {}
    for graph, spec in manifest["graphs"].items():
        has_time = any("time" in tensor["shape"] for tensor in spec["inputs"])
        for batch in BATCH_SIZES:
            for length in LENGTHS if has_time else (None,):
                label = f"{graph}.b{batch}" + (f".t{length}" if length else "")
                cases[label] = (graph, {tensor["name"]: random_input(tensor, batch, length, vocab_size, rng) for tensor in spec["inputs"]})
    return cases


def reference_outputs(folder, cases, backend):
    """Keras (and, under tensorflow, SavedModel) outputs, computed in a fresh process for `backend`."""
    with tempfile.TemporaryDirectory() as scratch:
        inputs, outputs = Path(scratch) / "inputs.npz", Path(scratch) / "outputs.npz"
        np.savez(inputs, **{f"{case}/{graph}/{name}": value for case, (graph, values) in cases.items() for name, value in values.items()})
        environment = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
        result = subprocess.run(
            [sys.executable, "-m", "export.reference", str(folder), str(inputs), str(outputs)],
            env=environment, capture_output=True, text=True,
        )
        if result.returncode != 0:
            lines = result.stderr.strip().splitlines() or [f"exit code {result.returncode}"]
            raise ZooError(f"Keras on {backend} could not compute the reference outputs: {lines[-1]}")
        with np.load(outputs) as arrays:
            return dict(arrays)


def compare(reference, candidate):
    """Max and mean |diff| and whether every element is within tolerance, over all cases of one tensor."""
    diffs = [np.abs(np.asarray(c, "float64") - np.asarray(r, "float64")) for r, c in zip(reference, candidate)]
    bounds = [ATOL + RTOL * np.abs(np.asarray(r, "float64")) for r in reference]
    return {
        "max_abs_diff": float(max(d.max() for d in diffs)),
        "mean_abs_diff": float(np.concatenate([d.ravel() for d in diffs]).mean()),
        "passed": bool(all((d <= b).all() for d, b in zip(diffs, bounds))),
    }


def candidate_outputs(folder, cases, backends, providers):
    """{candidate name: {case/output: array}}, and the reasons for candidates that were skipped."""
    candidates, skipped = {}, {}
    for provider in providers:
        try:
            artifact = Artifact(folder, provider)
        except ZooError as error:
            if provider == "cpu":
                raise
            skipped[f"onnxruntime-{provider}"] = str(error)
            continue
        candidates[f"onnxruntime-{provider}"] = {
            f"{case}/{name}": value for case, (graph, inputs) in cases.items() for name, value in artifact.run(graph, inputs).items()
        }
    for backend in backends:
        for key, value in reference_outputs(folder, cases, backend).items():
            candidate, rest = key.split("/", 1)
            candidates.setdefault(candidate, {})[rest] = value
    return candidates, skipped


def check_parity(folder, backends=BACKENDS, providers=("cpu", "cuda")):
    """Runs the gate and stores its report in the manifest; `report["passed"]` is the verdict."""
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        raise ZooError(f"unknown backend {', '.join(sorted(unknown))}; choose from {', '.join(BACKENDS)}")
    manifest = read_manifest(folder)
    cases = parity_cases(manifest)
    candidates, skipped = candidate_outputs(folder, cases, backends, providers)
    reference = candidates.pop("onnxruntime-cpu")
    rows = []
    for graph, spec in manifest["graphs"].items():
        graph_cases = [case for case, (case_graph, _) in cases.items() if case_graph == graph]
        for output in spec["outputs"]:
            keys = [f"{case}/{output['name']}" for case in graph_cases]
            for candidate, values in candidates.items():
                result = compare([reference[key] for key in keys], [values[key] for key in keys])
                rows.append({"graph": graph, "tensor": output["name"], "candidate": candidate, "reference": "onnxruntime-cpu", **result})
    report = {
        "tolerance": {"atol": ATOL, "rtol": RTOL},
        "batch_sizes": list(BATCH_SIZES),
        "lengths": list(LENGTHS),
        "rows": rows,
        "skipped": skipped,
        "passed": bool(rows) and all(row["passed"] for row in rows),
    }
    manifest["parity"] = report
    (Path(folder) / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    return report


def format_report(report):
    lines = [f"{'graph':<10} {'tensor':<10} {'candidate':<20} {'max |diff|':>11} {'mean |diff|':>12}  {'tolerance':<20} result"]
    tolerance = f"{report['tolerance']['atol']:g} + {report['tolerance']['rtol']:g}*|ref|"
    for row in report["rows"]:
        lines.append(
            f"{row['graph']:<10} {row['tensor']:<10} {row['candidate']:<20} {row['max_abs_diff']:>11.2e} {row['mean_abs_diff']:>12.2e}  "
            f"{tolerance:<20} {'pass' if row['passed'] else 'FAIL'}"
        )
    lines += [f"skipped {name}: {reason}" for name, reason in report["skipped"].items()]
    lines.append("parity: PASSED" if report["passed"] else "parity: FAILED")
    return "\n".join(lines)


def failures(report):
    """One line naming every tensor that failed the gate."""
    return "; ".join(
        f"{row['graph']}/{row['tensor']} on {row['candidate']} (max |diff| {row['max_abs_diff']:.2e})" for row in report["rows"] if not row["passed"]
    )
