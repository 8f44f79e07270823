"""The artifact manifest: its schema, its own hash, and reading it with a one-line error for anything malformed.

`manifest.json` declares every graph (kind, ONNX file, tensors with role, shape and dtype), the vocabularies,
the tokenizer, the sha256 of every file, the parity report, and `manifest_sha256`: the sha256 of the manifest
itself without that field, so that an edited manifest (classes relabelled, say) is refused like an edited graph.
"""
import hashlib
import json
import os
from pathlib import Path

from zoo.core.contract import KINDS, ROLES
from zoo.core.errors import ZooError

FORMAT_VERSION = 3
TASKS = ("language_model", "molecule_generation", "classification", "translation", "captioning", "question_answering", "speech_recognition")
TOKENIZERS = ("char", "word", "symbols", "subword", "pair")
DTYPES = ("int32", "float32")
SHA256 = "sha256"


class OneOf(tuple):
    """A schema: one of these values."""


class Optional:
    """A schema: null, or a value that fits `schema`."""

    def __init__(self, schema):
        self.schema = schema


TENSOR = {"name": str, "role": OneOf(ROLES), "vocabulary": Optional(str), "shape": [(int, str)], "dtype": OneOf(DTYPES)}
GRAPH = {"kind": OneOf(KINDS), "onnx": str, "inputs": [TENSOR], "outputs": [TENSOR]}
SCHEMA = {
    "format_version": int,
    "preset": str,
    "family": str,
    "task": OneOf(TASKS),
    "versions": {str: str},
    "opset": int,
    "graphs": {str: GRAPH},
    "vocabularies": {str: int},
    "tokenizer": {"type": OneOf(TOKENIZERS)},
    "max_length": Optional(int),
    "max_target_length": Optional(int),
    "attention_grid": Optional([int]),
    "image": Optional({"height": int, "width": int, "channels": int}),
    "audio": Optional({"mel_bins": int, "window_seconds": float, "hop_seconds": float, "frame_multiple": int}),
    "held_out": Optional({"file": str, "count": int}),
    "files": {str: SHA256},
    "parity": Optional(dict),
    "manifest_sha256": SHA256,
}
NAMES = {int: "an integer", float: "a number", str: "a string", dict: "an object"}


def check(value, schema, field=""):
    """Raises a ZooError naming `field` where `value` does not fit `schema`: a type or tuple of types, `OneOf`,
    `Optional`, SHA256, [schema] for a list, {key: schema} for an object with those keys, {str: schema} for any keys."""
    if isinstance(schema, Optional):
        return value is None or check(value, schema.schema, field)
    if schema == SHA256:
        ok, expected = isinstance(value, str) and len(value) == 64 and set(value) <= set("0123456789abcdef"), "a sha256 hex digest"
    elif isinstance(schema, OneOf):
        ok, expected = isinstance(value, (str, int)) and value in schema, f"one of {', '.join(map(str, schema))}"
    elif isinstance(schema, (list, dict)):
        ok, expected = isinstance(value, type(schema)), NAMES.get(type(schema), "a list")
    else:
        types = schema if isinstance(schema, tuple) else (schema,)
        ok, expected = isinstance(value, types) and not isinstance(value, bool), " or ".join(NAMES[kind] for kind in types)
    if not ok:
        raise ZooError(f"manifest field {field or 'root'} must be {expected}, not {json.dumps(value)[:40]}")
    if isinstance(schema, list):
        for index, item in enumerate(value):
            check(item, schema[0], f"{field}[{index}]")
    elif isinstance(schema, dict):
        for key, item_schema in (((key, schema[str]) for key in value) if list(schema) == [str] else schema.items()):
            name = f"{field}.{key}" if field else key
            if key not in value and not isinstance(item_schema, Optional):
                raise ZooError(f"manifest field {name} is missing")
            check(value.get(key), item_schema, name)


def digest(manifest):
    """The sha256 of the manifest's content without `manifest_sha256`, key order aside."""
    content = {key: value for key, value in manifest.items() if key != "manifest_sha256"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def write_manifest(folder, manifest):
    """Writes `manifest.json` with its own hash, under a temporary name first: a reader never sees half of it."""
    manifest = {**manifest, "manifest_sha256": digest(manifest)}
    temporary = Path(folder) / f".manifest.json.{os.getpid()}"
    temporary.write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    os.replace(temporary, Path(folder) / "manifest.json")
    return manifest


def read_manifest(folder):
    """The checked manifest of an artifact folder: format version, schema, own hash, and references between fields."""
    folder = Path(folder)
    path = folder / "manifest.json"
    if not folder.is_dir():
        raise ZooError(f"no artifact folder {folder}")
    if not path.is_file():
        raise ZooError(f"{folder} has no manifest.json: not an artifact folder (write one with `zoo export`)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ZooError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(manifest, dict):
        raise ZooError(f"{path} is not a JSON object")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ZooError(f"{path} has format_version {manifest.get('format_version')!r}; this version of zoo reads {FORMAT_VERSION}: export the preset again")
    check(manifest, SCHEMA)
    if manifest["manifest_sha256"] != digest(manifest):
        raise ZooError(f"{path} does not match its manifest_sha256: it was edited or corrupted; export again")
    for graph, spec in manifest["graphs"].items():
        if spec["onnx"] not in manifest["files"]:
            raise ZooError(f"manifest field graphs.{graph}.onnx names {spec['onnx']}, which manifest field files does not list")
        for tensor in spec["inputs"] + spec["outputs"]:
            if "vocabulary" in tensor and tensor["vocabulary"] not in manifest["vocabularies"]:
                raise ZooError(f"manifest field graphs.{graph} tensor {tensor['name']} names vocabulary {tensor['vocabulary']!r}, which vocabularies lacks")
    return manifest
