"""`python -m serving ARTIFACT ...`: generate, classify, translate, caption, answer or spell with onnxruntime, no Keras involved.

`--input FILE` takes one item per line (a prompt, a text, or an image or WAV path; blank lines are skipped) and writes
one JSON line per item as soon as its batch is decoded, in input order: `{"line": n, ...}` with the result, or
`{"line": n, "error": "..."}` where that item failed while the others go on. The exit status is 1 if any failed.

`--http` serves the artifact (and any `--artifact NAME=DIR`) over HTTP until SIGTERM, batching concurrent
requests: see `serving/service.py` for the routes (needs `pip install ".[serve]"`).
"""
import argparse
import json
import os
import sys
from itertools import islice

import numpy as np

from serving.artifact import PROVIDERS, Artifact
from serving.alignment import draw_spectrogram_alignment
from serving.heatmap import draw_alignment
from serving.limits import Limits
from serving.overlay import draw_overlay, load_image
from serving.runtime import BATCH, MAX_BEAM, MAX_GENERATED, MAX_MOLECULES, Runtime
from zoo.core.audio import read_wav
from zoo.core.errors import ArgumentParser, ZooError

# The option that carries one item, per task.
ITEM_OPTIONS = {"language_model": "prompt", "molecule_generation": "prompt", "classification": "text", "translation": "text", "captioning": "image", "question_answering": "image",
                "speech_recognition": "audio"}


def parse_arguments(argv):
    parser = ArgumentParser(prog="python -m serving", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("artifact", nargs="?", help="artifact folder written by `zoo export` (with --http, named after its preset)")
    item = parser.add_mutually_exclusive_group(required=True)
    item.add_argument("--http", action="store_true", help="serve the artifacts over HTTP (routes at /openapi.json, a page at /) until SIGTERM")
    item.add_argument("--prompt", help="language models: text to continue; molecule generators: a SMILES prefix, or \"\" for whole molecules")
    item.add_argument("--text", help="classifiers: text to classify; translation models: text to translate")
    item.add_argument("--image", help="captioning models: an image file (any format Pillow reads; made grey and resized to the model's size)")
    item.add_argument("--audio", help="speech recognition models: a PCM WAV file (8, 16 or 32-bit, mono or stereo, sampled at 16 kHz or more)")
    item.add_argument("--input", help="a UTF-8 file of one item per line (a leading byte-order mark is ignored; question answering: IMAGE<TAB>QUESTION), answered as JSON lines")
    parser.add_argument("--question", help="question answering models: the question about --image")
    parser.add_argument("--length", type=int, default=200, help=f"characters to generate, 1 to {MAX_GENERATED} (default 200)")
    parser.add_argument("--count", type=int, default=10, help=f"molecule generators: molecules to sample per prompt, 1 to {MAX_MOLECULES} (default 10)")
    parser.add_argument("--temperature", type=float, help="sampling temperature, finite and at least 0; 0 is greedy (default 0.8; molecule generators 1.0)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--top-k", type=int, default=3, help="classes to show, at least 1 (default 3)")
    parser.add_argument("--beam", type=int, default=1, help=f"beam width for decoding models, 1 (greedy) to {MAX_BEAM} (default 1)")
    parser.add_argument("--heatmap", help="translation of --text: write the attention alignment to this PNG file; speech recognition of --audio: the spectrogram with each character's attention under it")
    parser.add_argument("--overlay", help="captioning or question answering of --image: write the image once per word, with that step's attention over it, to this PNG file")
    parser.add_argument("--no-attention", action="store_true", help="leave the attention matrices out of the JSON (bulk jobs)")
    parser.add_argument("--provider", choices=sorted(PROVIDERS), default="cpu")
    parser.add_argument("--threads", type=int, help="onnxruntime threads per graph call (default: every core, spinning within a call, but with --http sleeping, and the search graphs on one thread; a batch of more than 8 is cut into one part per core, each on one thread)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    http = parser.add_argument_group("HTTP service (--http)")
    http.add_argument("--artifact", dest="artifacts", action="append", default=[], metavar="NAME=DIR", help="another artifact to serve, named NAME in requests (repeatable)")
    http.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    http.add_argument("--port", type=int, default=8000)
    http.add_argument("--max-batch", type=int, default=BATCH, help=f"items merged from concurrent requests into one decoder batch (default {BATCH})")
    http.add_argument("--max-wait-ms", type=float, default=5.0, help="how long a request may wait for others to share its batch (default 5)")
    http.add_argument("--no-batching", action="store_true", help="decode every request alone (to measure what batching gives)")
    http.add_argument("--max-body-mb", type=float, default=Limits.body_mb, help=f"largest request body (default {Limits.body_mb:g})")
    http.add_argument("--max-items", type=int, default=Limits.items, help=f"texts, prompts or images per request (default {Limits.items})")
    http.add_argument("--max-text-chars", type=int, default=Limits.text_characters, help=f"characters per text or prompt (default {Limits.text_characters})")
    http.add_argument("--max-megapixels", type=float, default=Limits.megapixels, help=f"pixels per uploaded image, in millions (default {Limits.megapixels:g})")
    http.add_argument("--timeout-s", type=float, default=Limits.timeout_s, help=f"seconds a request may take before a 503 (default {Limits.timeout_s:g})")
    return parser.parse_args(argv)


def check_options(arguments):
    if arguments.artifact is None and not (arguments.http and arguments.artifacts):
        raise ZooError("give an artifact folder" + (" or --artifact NAME=DIR" if arguments.http else ""))
    if arguments.artifacts and not arguments.http:
        raise ZooError("--artifact NAME=DIR names artifacts for --http; give one artifact folder otherwise")
    if arguments.input is not None and (arguments.heatmap or arguments.overlay):
        raise ZooError(f"{'--heatmap' if arguments.heatmap else '--overlay'} draws one item: use it with --{'text or --audio' if arguments.heatmap else 'image'}, not --input")
    if arguments.question is not None and arguments.image is None:
        raise ZooError("--question asks about an image: give --image too" + (" (with --input, give IMAGE<TAB>QUESTION per line)" if arguments.input else ""))
    if arguments.overlay and arguments.image is None:
        raise ZooError("--overlay draws the attention of a caption: give --image too")
    if arguments.heatmap and arguments.text is None and arguments.audio is None:
        raise ZooError("--heatmap draws the attention of a translation or a spelling: give --text or --audio too")


def temperature(arguments, default):
    return default if arguments.temperature is None else arguments.temperature


# Per task declared in the manifest: the results for a list of items (prompts, texts, paths, or (image path,
# question) pairs), one per item.
ANSWERS = {
    "language_model": lambda runtime, prompts, arguments: runtime.continuations(prompts, arguments.length, temperature(arguments, 0.8), arguments.seed),
    "molecule_generation": lambda runtime, prefixes, arguments: runtime.molecules(prefixes, arguments.count, temperature(arguments, 1.0), arguments.seed),
    "classification": lambda runtime, texts, arguments: runtime.classify(texts, arguments.top_k),
    "translation": lambda runtime, texts, arguments: runtime.translate(texts, arguments.beam, not arguments.no_attention),
    "captioning": lambda runtime, paths, arguments: runtime.caption(
        paths, lambda path: load_image(path, runtime.image_shape), arguments.beam, not arguments.no_attention
    ),
    "question_answering": lambda runtime, items, arguments: runtime.answer(
        items, lambda path: load_image(path, runtime.image_shape), arguments.beam, not arguments.no_attention
    ),
    "speech_recognition": lambda runtime, paths, arguments: runtime.spell(paths, read_wav, arguments.beam, not arguments.no_attention),
}


def image_and_question(line):
    """(image path, question) of an item IMAGE<TAB>QUESTION; a line without a tab asks an empty question, refused as such."""
    path, _, question = line.partition("\t")
    return path.strip(), question.strip()


# Per task whose item is more than its line: the item of an --input line.
LINE_ITEMS = {"question_answering": image_and_question}


def write(text):
    """Writes and flushes a line of output; a full disk is a one-line error, a pipe closed by its reader a quiet end."""
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except OSError as error:
        # What could not be written must not be retried when Python flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if isinstance(error, BrokenPipeError):
            raise
        raise ZooError(f"cannot write the output: {error.strerror or error}") from None


def read_items(path):
    """(line number, stripped line) of each non-blank line, read lazily."""
    try:
        with open(path, encoding="utf-8-sig") as file:
            for number, line in enumerate(file, start=1):
                if line.strip():
                    yield number, line.strip()
    except UnicodeDecodeError as error:
        raise ZooError(f"cannot read --input {path}: not UTF-8 ({error.reason} at byte {error.start})") from None
    except OSError as error:
        raise ZooError(f"cannot read --input {path}: {error.strerror or error}") from None


def serve_file(runtime, arguments):
    """Answers --input batch by batch, each line as soon as its batch is done; returns (items, failures)."""
    items, failures = 0, 0
    lines, item = read_items(arguments.input), LINE_ITEMS.get(runtime.task, str)
    while batch := list(islice(lines, BATCH)):
        for (number, _), result in zip(batch, ANSWERS[runtime.task](runtime, [item(text) for _, text in batch], arguments)):
            write(json.dumps({"line": number, **result}, ensure_ascii=False))
            failures += "error" in result
        items += len(batch)
    if not items:
        raise ZooError(f"--input {arguments.input} has no lines")
    return items, failures


def serve_item(runtime, arguments):
    option = ITEM_OPTIONS[runtime.task]
    item = getattr(arguments, option)
    model = f"{runtime.manifest['preset']} is a {runtime.task.replace('_', ' ')} model"
    if item is None:
        given = next(name for name in ITEM_OPTIONS.values() if getattr(arguments, name) is not None)
        raise ZooError(f"{model}: it takes --{option}, not --{given}")
    if (runtime.task == "question_answering") != (arguments.question is not None):
        raise ZooError(f"{model}: " + ("give --question too" if arguments.question is None else "it takes no --question"))
    if arguments.question is not None:
        item = (item, arguments.question.strip())
    (result,) = ANSWERS[runtime.task](runtime, [item], arguments)
    if "error" in result:
        raise ZooError(result["error"])
    if arguments.heatmap:
        if "attention" not in result:
            raise ZooError(f"{runtime.manifest['preset']} has no attention to draw: --heatmap needs an attention model")
        if arguments.audio:
            frames = runtime.frames(*read_wav(arguments.audio))
            draw_spectrogram_alignment(frames, result["attention"], result["tokens"], runtime.manifest["audio"]["frame_multiple"], arguments.heatmap)
        else:
            draw_alignment(result["attention"], result["source_tokens"], result["target_tokens"], arguments.heatmap)
    if arguments.overlay:
        draw_overlay(load_image(arguments.image, runtime.image_shape), np.asarray(result["attention"]), result["tokens"], arguments.overlay)
    header = {"preset": runtime.manifest["preset"], "provider": arguments.provider}
    write(json.dumps(header | result, ensure_ascii=False) if arguments.json else PLAIN[runtime.task](result))


# Per task, one result as plain text (without --json).
PLAIN = {
    "language_model": lambda result: result["prompt"] + result["generated"],
    "molecule_generation": lambda result: "\n".join(
        [f"{m['smiles']:<60} {'valid' if m['valid'] else 'invalid':<8} {m['canonical'] or ''}" for m in result["molecules"]] + [f"valid: {result['valid_share']:.1%}"]
    ),
    "classification": lambda result: "\n".join([f"{result['text']}:"] + [f"  {c['label']:<10} {c['probability']:.3f}" for c in result["classes"]]),
    "translation": lambda result: result["translation"],
    "captioning": lambda result: result["caption"],
    "question_answering": lambda result: result["answer"],
    "speech_recognition": lambda result: result["spelling"],
}


def serve_http(arguments):
    """Loads every artifact first (a bad one stops the server before it listens), then serves them all."""
    positive = {"--max-batch": arguments.max_batch, "--max-body-mb": arguments.max_body_mb, "--max-items": arguments.max_items,
                "--max-text-chars": arguments.max_text_chars, "--max-megapixels": arguments.max_megapixels, "--timeout-s": arguments.timeout_s}
    for option, value in positive.items():
        if not value > 0:  # NaN too
            raise ZooError(f"{option} must be more than 0, not {value:g}")
    if not arguments.max_wait_ms >= 0:
        raise ZooError(f"--max-wait-ms must be at least 0, not {arguments.max_wait_ms:g}")
    if not 0 <= arguments.port <= 65_535:
        raise ZooError(f"--port must be between 0 and 65535, not {arguments.port}")
    folders = [(None, arguments.artifact)] if arguments.artifact else []
    for option in arguments.artifacts:
        name, _, folder = option.partition("=")
        if not name or not folder:
            raise ZooError(f"--artifact takes NAME=DIR, not {option!r}")
        folders.append((name, folder))
    runtimes = {}
    for name, folder in folders:
        runtime = Runtime(Artifact(folder, arguments.provider, arguments.threads, spinning=False))
        name = name or runtime.manifest["preset"]
        if name in runtimes:
            raise ZooError(f"two artifacts are named {name}: tell them apart with --artifact NAME=DIR")
        runtimes[name] = runtime
    try:
        from serving.service import serve
    except ImportError as error:
        raise ZooError(f"--http needs the service's packages, which `pip install \".[serve]\"` installs ({error})") from None
    limits = Limits(arguments.max_body_mb, arguments.max_items, arguments.max_text_chars, arguments.max_megapixels, arguments.timeout_s)
    serve(runtimes, arguments.host, arguments.port, limits, arguments.max_batch, arguments.max_wait_ms, not arguments.no_batching)


def main(argv=None):
    arguments = parse_arguments(argv)
    try:
        check_options(arguments)
        if arguments.http:
            return serve_http(arguments)
        runtime = Runtime(Artifact(arguments.artifact, arguments.provider, arguments.threads))
        if arguments.input is None:
            return serve_item(runtime, arguments)
        items, failures = serve_file(runtime, arguments)
    except ZooError as error:
        sys.exit(f"error: {error}")
    except BrokenPipeError:
        return  # the reader closed the pipe (`| head`): stop quietly
    if failures:
        sys.exit(f"error: {failures} of {items} lines failed (their JSON lines hold the reason)")


if __name__ == "__main__":
    main()
