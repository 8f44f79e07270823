"""The parity gate: every output of every graph, onnxruntime against Keras on each backend and the SavedModel.

Inputs cover batch sizes {1, 3, 64} and, for graphs with a time axis, lengths {1, 7, 300}, with
padding in every batch of more than one row; lengths far from the traced one catch a frozen time
axis. A difference above `ATOL + RTOL * max|onnxruntime|` (the largest magnitude of that tensor in that case)
fails the gate.
"""
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np

from serving.artifact import Artifact
from zoo.core.audio import padded_length
from zoo.core.backends import BACKENDS, run_python
from zoo.core.contract import EXPORTED_KINDS, SEARCH_KINDS, Graphs
from zoo.core.decoding import GRAPH_SEARCH_ROWS, Decoder, Without, beam_search_in_batches, chunks, graph_beam_search, greedy_search, padded_ids, rows_of, take
from zoo.core.errors import ZooError
from zoo.core.images import pixels
from zoo.core.manifest import read_manifest, write_manifest
from zoo.core.tokenizers import pad_batch
from zoo.presets import read_held_out

# fp32 on CPU. The issue asked for atol 1e-5, but Keras itself is not that consistent: on
# char_rnn_shakespeare (batch 64, length 300) Keras-tensorflow and Keras-jax logits differ by up
# to 1.43e-5, and onnxruntime sits between them (1.10e-5 and 1.24e-5 away). 2e-5 is the smallest
# round bound above that fp32 noise; real export bugs measured here are 1e-3 and larger.
ATOL = 2e-5
# fp32 rounding grows with the terms summed, not with each result: an element near 0 in a tensor of large
# values carries the error of its large terms. sat_molecule_images' annotations of random-pixel images reach
# 68 and differ by 9.2e-5 between backends (1.3e-6 of the scale), which an element-wise bound failed.
RTOL = 1e-5
BATCH_SIZES = (1, 3, 64)
LENGTHS = (1, 7, 300)
DECODING_BEAM_WIDTHS = (1, 4)
DECODING_BATCH = 512  # sentences per decoding call: large batches keep the per-step overhead of Keras small
# Two runtimes may rank a pair of hypotheses whose summed log-probabilities are closer than their fp32
# noise (measured: totals of about -60 differing by 5e-6 between onnxruntime and Keras) in either order;
# seq2seq_en_fr_bible's beam 4 met one such pair 4.6e-7 apart in 617 test verses. A decoding that differs
# passes only where the searches first part at a gap below this.
DECODING_TIE = 1e-4
ATTENTION_ROW_SUM_TOLERANCE = 1e-6
ATTENTION_PADDING_TOLERANCE = 1e-7


def random_input(spec, batch, length, manifest, rng, pad=True):
    """A random tensor for a manifest input spec, by its role: ids for tokens, a 1/0 prefix for a padding mask,
    pixels in [0, 1] for an image, frames in (-1, 1) for audio (`length` rounded up to the manifest's
    `audio.frame_multiple`), else uniform(-1, 1).

    With `pad`, rows after the first are cut short (ids, mask and frames set to 0) at random lengths.
    """
    if spec["role"] == "audio":
        length = padded_length(length, manifest["audio"]["frame_multiple"])
    shape = [batch if size in ("batch", "sources") else length if size == "time" else size for size in spec["shape"]]
    if spec["role"] == "padding_mask":
        values = np.ones(shape, spec["dtype"])
    elif spec["role"] == "tokens":
        values = rng.integers(1, manifest["vocabularies"][spec["vocabulary"]], size=shape).astype(spec["dtype"])
    elif spec["role"] == "audio":
        values = rng.uniform(-1, 1, size=shape).astype(spec["dtype"])
    else:
        return rng.uniform(0 if spec["role"] == "image" else -1, 1, size=shape).astype(spec["dtype"])
    if pad and "time" in spec["shape"]:
        for row in values[1:]:
            row[rng.integers(1, length + 1) :] = 0
    return values


def traced_graphs(manifest):
    """The graphs that have a Keras counterpart: all but those export builds around the decoder step, which the gate
    checks by their decodings: the candidate step by onnxruntime's (`check_decoding`), the searches by
    `check_search_graphs`."""
    return {name: spec for name, spec in manifest["graphs"].items() if spec["kind"] not in EXPORTED_KINDS}


def parity_cases(manifest, seed=0):
    """{"graph/b{batch}/t{length}": (graph, inputs)} over the batch sizes and, where there is a time axis, lengths."""
    rng = np.random.default_rng(seed)
    cases = {}
    for graph, spec in traced_graphs(manifest).items():
        has_time = any("time" in tensor["shape"] for tensor in spec["inputs"])
        for batch in BATCH_SIZES:
            for length in LENGTHS if has_time else (None,):
                label = f"{graph}.b{batch}" + (f".t{length}" if length else "")
                cases[label] = (graph, {tensor["name"]: random_input(tensor, batch, length, manifest, rng) for tensor in spec["inputs"]})
    return cases


def run_reference(folder, arrays, backend):
    """`python -m export.reference` on `arrays` with KERAS_BACKEND=backend: Keras outputs (and, under tensorflow,
    SavedModel outputs) of every case, and Keras decodings of `decode/source`, by key."""
    with tempfile.TemporaryDirectory() as scratch:
        inputs, outputs = Path(scratch) / "inputs.npz", Path(scratch) / "outputs.npz"
        np.savez(inputs, **arrays)
        run_python(["-m", "export.reference", str(folder), str(inputs), str(outputs)], backend, what=f"Keras on {backend} could not compute the reference outputs")
        with np.load(outputs) as arrays:
            return dict(arrays)


def compare(reference, candidate):
    """Max and mean |diff| and whether every element is within tolerance, over all cases of one tensor."""
    diffs = [np.abs(np.asarray(c, "float64") - np.asarray(r, "float64")) for r, c in zip(reference, candidate)]
    bounds = [ATOL + RTOL * np.abs(np.asarray(r, "float64")).max(initial=0.0) for r in reference]
    return {
        "max_abs_diff": float(max(d.max() for d in diffs)),
        "mean_abs_diff": float(np.concatenate([d.ravel() for d in diffs]).mean()),
        "passed": bool(all((d <= b).all() for d, b in zip(diffs, bounds))),
    }


def onnxruntime_outputs(folder, cases, providers):
    """{"onnxruntime-{provider}": {case/output: array}}, the CPU session, and the reasons for providers skipped."""
    candidates, skipped, sessions = {}, {}, {}
    for provider in providers:
        try:
            sessions[provider] = Artifact(folder, provider)
        except ZooError as error:
            if provider == "cpu":
                raise
            skipped[f"onnxruntime-{provider}"] = str(error)
            continue
        candidates[f"onnxruntime-{provider}"] = {
            f"{case}/{name}": value for case, (graph, inputs) in cases.items() for name, value in sessions[provider].run(graph, inputs).items()
        }
    return candidates, sessions["cpu"], skipped


def attention_invariants(graphs, cases, outputs):
    """Largest |row sum - 1| and largest weight on a padded source position, over every output of role `attention`."""
    row_sum_error, on_padding = 0.0, 0.0
    for case, (graph, inputs) in cases.items():
        attention, mask = graphs.tensor(graph, "outputs", "attention"), graphs.tensor(graph, "inputs", "padding_mask")
        if attention is None:
            continue
        weights = outputs[f"{case}/{attention}"]
        row_sum_error = max(row_sum_error, float(np.abs(weights.astype("float64").sum(axis=-1) - 1).max()))
        padded = weights[inputs[mask] == 0] if mask else weights[:0]  # an image grid has no padding
        on_padding = max(on_padding, float(padded.max()) if padded.size else 0.0)
    return {
        "attention_row_sum_max_error": row_sum_error,
        "attention_on_padding_max": on_padding,
        "passed": row_sum_error <= ATTENTION_ROW_SUM_TOLERANCE and on_padding <= ATTENTION_PADDING_TOLERANCE,
    }


def held_out_inputs(artifact):
    """The encoder's inputs {name: array} of the held-out set the preset ships (token ids, grey images made pixels), or None."""
    held_out = artifact.manifest["held_out"]
    if held_out is None:
        return None
    inputs = Decoder(artifact.graphs).encoder_inputs(read_held_out(artifact.checked(held_out["file"])))
    return {name: pixels(value) if value.dtype == np.uint8 else value for name, value in inputs.items()}


def decodings(runner, source, max_length):
    """{width: {field: array}} for greedy and beam decoding of `source` by `runner`: the ids, the scores and the
    search traces, padded over steps."""
    return {width: traced_arrays(beam_search_in_batches(runner, source, max_length, width, DECODING_BATCH, trace=True)) for width in DECODING_BEAM_WIDTHS}


def traced_arrays(results):
    """{field: array} of traced search results: the ids, the scores and the search traces, padded over steps."""
    traces = [result["trace"] for result in results]
    steps = np.array([len(trace["runner_up"]) for trace in traces])
    arrays = {"ids": padded_ids(results), "score": np.array([result["score"] for result in results]), "steps": steps}
    for field in ("beams", "beam_scores", "runner_up"):
        arrays[field] = np.stack([np.pad(trace[field], [(0, steps.max() - length)] + [(0, 0)] * (trace[field].ndim - 1)) for trace, length in zip(traces, steps)])
    return arrays


def parted_at_a_near_tie(a, b, row):
    """Whether two searches of one source part only where one could rank either way: at the first step where their
    beams differ, each hypothesis only one search kept scored within DECODING_TIE of the best that search pruned
    (with the same beams throughout, the final picks scored within DECODING_TIE)."""
    for step in range(min(a["steps"][row], b["steps"][row])):
        beams_a, beams_b = list(a["beams"][row, step]), list(b["beams"][row, step])
        if set(beams_a) != set(beams_b):
            return all(
                search["beam_scores"][row, step][beams.index(hypothesis)] - search["runner_up"][row, step] <= DECODING_TIE
                for search, beams, other in ((a, beams_a, beams_b), (b, beams_b, beams_a))
                for hypothesis in set(beams) - set(other)
            )
    return abs(a["score"][row] - b["score"][row]) <= DECODING_TIE


def compare_decodings(expected, other):
    """Sources decoded to different ids, and how many of those the two searches parted at a near-tie."""
    ids = pad_batch(list(expected["ids"]) + list(other["ids"]))
    differing = np.flatnonzero((ids[: len(expected["ids"])] != ids[len(expected["ids"]) :]).any(axis=1))
    # Counted as ints: numpy's bools sum to numpy ints, which the manifest's JSON cannot hold.
    return len(differing), sum(int(parted_at_a_near_tie(expected, other, row)) for row in differing)


def tensor_rows(manifest, cases, reference, candidates):
    """One row per output tensor and candidate, over all cases of its graph, against onnxruntime on the CPU."""
    rows = []
    for graph, spec in traced_graphs(manifest).items():
        graph_cases = [case for case, (case_graph, _) in cases.items() if case_graph == graph]
        for output in spec["outputs"]:
            keys = [f"{case}/{output['name']}" for case in graph_cases]
            for candidate, values in candidates.items():
                result = compare([reference[key] for key in keys], [values[key] for key in keys])
                rows.append({"graph": graph, "tensor": output["name"], "candidate": candidate, "reference": "onnxruntime-cpu", **result})
    return rows


def check_decoding(expected, references, backends):
    """Rows comparing onnxruntime's decodings with each backend's: the same ids, except where the searches parted at a near-tie."""
    rows = []
    for backend in backends:
        for width, fields in expected.items():
            differing, near_ties = compare_decodings(fields, {field: references[f"keras-{backend}/decode/beam{width}/{field}"] for field in fields})
            rows.append(
                {"decoding": f"beam{width}", "candidate": f"keras-{backend}", "sentences": len(fields["ids"]), "differing": differing, "near_ties": near_ties, "passed": differing == near_ties}
            )
    return {"rows": rows, "near_tie": DECODING_TIE}


def first_difference(a, b):
    """The first step at which two id lists differ, an end counting as a token."""
    return next((step for step, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def check_search_graphs(session, source, max_length, expected):
    """Rows for the artifact's `greedy_search` and `beam_search` graphs, run in the batches serving gives them,
    against the same searches step by step (`expected`, their traces), both on onnxruntime: the same ids but where
    the searches parted at a near-tie, and for the same ids, scores within DECODING_TIE and attention within the
    tensors' tolerance."""
    batches = chunks(source, GRAPH_SEARCH_ROWS)
    rows = []
    for width in DECODING_BEAM_WIDTHS:
        kind = "greedy_search" if width == 1 else "beam_search"
        if not session.graphs.has(kind):
            continue
        if width == 1:
            searched = [result for batch in batches for result in greedy_search(session, batch, max_length)]
            # The greedy graph records no search: a choice the step-by-step search made within DECODING_TIE of the runner-up.
            parted = lambda row, a, b: expected[1]["beam_scores"][row, first_difference(a, b), 0] - expected[1]["runner_up"][row, first_difference(a, b)] <= DECODING_TIE
        else:
            searched = [result for batch in batches for result in graph_beam_search(session, batch, max_length, width, trace=True)]
            traced = traced_arrays(searched)
            parted = lambda row, a, b: parted_at_a_near_tie(expected[width], traced, row)
        stepped = beam_search_in_batches(Without(session, *SEARCH_KINDS), source, max_length, width, DECODING_BATCH)
        differing, near_ties, score_diff, attention_diff = 0, 0, 0.0, 0.0
        for row, (a, b) in enumerate(zip(stepped, searched)):
            if a["ids"] != b["ids"]:
                differing += 1
                near_ties += int(parted(row, a["ids"], b["ids"]))
                continue
            score_diff = max(score_diff, abs(a["score"] - b["score"]))
            if a["attention"] is not None:
                attention_diff = max(attention_diff, float(np.abs(a["attention"] - b["attention"]).max()))
        rows.append({
            "decoding": f"{kind} graph",
            "candidate": "decoder_step step by step",
            "sentences": len(searched),
            "differing": differing,
            "near_ties": near_ties,
            "max_score_diff": score_diff,
            "max_attention_diff": attention_diff,
            "passed": differing == near_ties and score_diff <= DECODING_TIE and attention_diff <= ATOL,
        })
    return rows


def check_parity(folder, backends=BACKENDS, providers=("cpu", "cuda"), decode_limit=None):
    """Runs the gate and stores its report in the manifest; `report["passed"]` is the verdict.

    Translation and captioning models also decode their held-out set (greedy and beam), all of it unless
    `decode_limit` picks that many, evenly spread. The backends run side by side, each in its own process.
    """
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        raise ZooError(f"unknown backend {', '.join(sorted(unknown))}; choose from {', '.join(BACKENDS)}")
    manifest = read_manifest(folder)
    cases = parity_cases(manifest)
    arrays = {f"{case}/{graph}/{name}": value for case, (graph, inputs) in cases.items() for name, value in inputs.items()}
    source = held_out_inputs(Artifact(folder)) if manifest["max_target_length"] else None
    if source is not None:
        if decode_limit is not None and decode_limit < rows_of(source):
            source = take(source, np.linspace(0, rows_of(source) - 1, decode_limit).round().astype(int))  # spread over the set, which may be sorted by length
        arrays |= {f"decode/source/{name}": value for name, value in source.items()} | {"decode/max_length": np.array(manifest["max_target_length"])}
    with ThreadPoolExecutor(len(backends)) as pool:
        running = pool.map(partial(run_reference, folder, arrays), backends)
        candidates, session, skipped = onnxruntime_outputs(folder, cases, providers)
        expected = decodings(session, source, manifest["max_target_length"]) if source is not None else None
        references = {key: value for outputs in running for key, value in outputs.items()}
    reference = candidates.pop("onnxruntime-cpu")
    for key, value in references.items():
        if "/decode/" not in key:
            candidate, rest = key.split("/", 1)
            candidates.setdefault(candidate, {})[rest] = value
    rows = tensor_rows(manifest, cases, reference, candidates)
    graphs = Graphs(manifest["graphs"])
    has_attention = any(graphs.tensor(graph, "outputs", "attention") for graph in manifest["graphs"])
    invariants = {name: attention_invariants(graphs, cases, values) for name, values in {"onnxruntime-cpu": reference, **candidates}.items()} if has_attention else {}
    if not manifest["max_target_length"]:
        decoding = {}
    elif source is None:
        decoding = {"skipped": f"{manifest['preset']} ships no held-out inputs to decode"}
    else:
        decoding = check_decoding(expected, references, backends)
        decoding["rows"] += check_search_graphs(session, source, manifest["max_target_length"], expected)
    report = {
        "tolerance": {"atol": ATOL, "rtol": RTOL},
        "batch_sizes": list(BATCH_SIZES),
        "lengths": list(LENGTHS),
        "rows": rows,
        "attention_invariants": invariants,
        "decoding": decoding,
        "skipped": skipped,
        "passed": bool(rows)
        and all(row["passed"] for row in rows + decoding.get("rows", []))
        and all(check["passed"] for check in invariants.values()),
    }
    write_manifest(folder, {**manifest, "parity": report})
    return report


def format_report(report):
    lines = [f"{'graph':<10} {'tensor':<10} {'candidate':<20} {'max |diff|':>11} {'mean |diff|':>12}  {'tolerance':<20} result"]
    tolerance = f"{report['tolerance']['atol']:g} + {report['tolerance']['rtol']:g}*max|ref|"
    for row in report["rows"]:
        lines.append(
            f"{row['graph']:<10} {row['tensor']:<10} {row['candidate']:<20} {row['max_abs_diff']:>11.2e} {row['mean_abs_diff']:>12.2e}  "
            f"{tolerance:<20} {'pass' if row['passed'] else 'FAIL'}"
        )
    for name, check in report["attention_invariants"].items():
        lines.append(
            f"attention on {name}: max |row sum - 1| {check['attention_row_sum_max_error']:.1e} (<= {ATTENTION_ROW_SUM_TOLERANCE:g}), "
            f"max weight on padding {check['attention_on_padding_max']:.1e} (<= {ATTENTION_PADDING_TOLERANCE:g}) {'pass' if check['passed'] else 'FAIL'}"
        )
    for row in report["decoding"].get("rows", []):
        lines.append(
            f"{row['decoding']} decoding of {row['sentences']} held-out sentences, onnxruntime vs {row['candidate']}: "
            f"{row['differing']} differ" + (f", {row['near_ties']} of them where the searches parted at a near-tie (< {DECODING_TIE:g})" if row["differing"] else "")
            + (f"; the others' scores within {row['max_score_diff']:.1e}, attention within {row['max_attention_diff']:.1e}" if "max_score_diff" in row else "")
            + f" {'pass' if row['passed'] else 'FAIL'}"
        )
    if "skipped" in report["decoding"]:
        lines.append(f"skipped decoding check: {report['decoding']['skipped']}")
    lines += [f"skipped {name}: {reason}" for name, reason in report["skipped"].items()]
    lines.append("parity: PASSED" if report["passed"] else "parity: FAILED")
    return "\n".join(lines)


def format_summary(manifests):
    """A markdown table of the parity reports stored in artifacts' manifests: one row per artifact."""
    lines = [
        "| preset | tensors compared | worst max \\|diff\\| (tensor, runtime) | attention: row sums, padding | decodings: items x runtimes, differing (near-ties) | result |",
        "|---|--:|---|---|---|---|",
    ]
    for manifest in manifests:
        report = manifest["parity"]
        if report is None:
            lines.append(f"| {manifest['preset']} | no parity report | | | | |")
            continue
        worst = max(report["rows"], key=lambda row: row["max_abs_diff"])
        invariants = report["attention_invariants"].values()
        attention = f"{max(c['attention_row_sum_max_error'] for c in invariants):.1e}, {max(c['attention_on_padding_max'] for c in invariants):.1e}" if invariants else "-"
        rows = report["decoding"].get("rows", [])
        decoded = "-"
        if rows:
            differing, ties = sum(row["differing"] for row in rows), sum(row["near_ties"] for row in rows)
            widths = sorted({row["decoding"] for row in rows})
            runtimes = len({row["candidate"] for row in rows if row["candidate"].startswith("keras-")})
            decoded = f"{rows[0]['sentences']} x {runtimes} ({', '.join(widths)}), {differing} ({ties})"
        lines.append(
            f"| {manifest['preset']} | {len(report['rows'])} | {worst['max_abs_diff']:.2e} ({worst['graph']}/{worst['tensor']}, {worst['candidate']}) | "
            f"{attention} | {decoded} | {'passed' if report['passed'] else 'FAILED'} |"
        )
    return "\n".join(lines)


def failures(report):
    """One line naming every tensor that failed the gate."""
    failed = [f"{row['graph']}/{row['tensor']} on {row['candidate']} (max |diff| {row['max_abs_diff']:.2e})" for row in report["rows"] if not row["passed"]]
    failed += [f"attention invariants on {name}" for name, check in report["attention_invariants"].items() if not check["passed"]]
    failed += [f"{row['decoding']} tokens on {row['candidate']}" for row in report["decoding"].get("rows", []) if not row["passed"]]
    return "; ".join(failed) or "nothing was compared"
