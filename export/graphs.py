"""Traces a preset's deployment graphs to ONNX and a SavedModel and writes the manifest.

Run as `python -m export.graphs PRESET FOLDER FORMATS OPSET` under KERAS_BACKEND=tensorflow
(`export.artifact` does this); it writes FOLDER, which the caller moves into place.
"""
import json
import shutil
import sys
from pathlib import Path

import keras
import numpy as np
import onnx
import tensorflow as tf
import tf2onnx

from zoo.core.errors import ZooError
from zoo.presets import Preset, sha256

AXIS_NAMES = ("batch", "time")
TRACE_SIZES = (2, 5)


def trace_inputs(graph):
    """Small inputs for the first call that export requires, with every unknown axis filled in."""
    return {
        tensor.name: np.ones([TRACE_SIZES[axis] if size is None else size for axis, size in enumerate(tensor.shape)], tensor.dtype)
        for tensor in graph.inputs
    }


def tensor_specs(values):
    """Name, shape with symbolic axes and dtype of each ONNX graph input or output; renames the axes in place."""
    specs = []
    for value in values:
        shape = []
        for axis, dim in enumerate(value.type.tensor_type.shape.dim):
            if not dim.HasField("dim_value"):
                dim.dim_param = AXIS_NAMES[min(axis, len(AXIS_NAMES) - 1)]
            shape.append(dim.dim_param or dim.dim_value)
        dtype = onnx.helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type).name
        specs.append({"name": value.name, "shape": shape, "dtype": dtype})
    return specs


def export_onnx(graph, path, opset):
    graph.export(str(path), format="onnx", opset_version=opset, verbose=False)
    model = onnx.load(str(path))
    inputs, outputs = tensor_specs(model.graph.input), tensor_specs(model.graph.output)
    onnx.save(model, str(path))
    onnx.checker.check_model(str(path), full_check=True)
    return {"onnx": path.name, "inputs": inputs, "outputs": outputs}


def positional(graph):
    """The graph as a function of positional tensors: SavedModel signatures cannot take a dict or defaults."""
    names = [tensor.name for tensor in graph.inputs]

    def call(*tensors):
        return graph(dict(zip(names, tensors)))

    return call


def export_saved_model(graphs, path):
    """One SavedModel, one signature per graph, each taking and returning named tensors."""
    archive = keras.export.ExportArchive()
    for name, graph in graphs.items():
        archive.track(graph)
        signature = [tf.TensorSpec(tensor.shape, tensor.dtype, name=tensor.name) for tensor in graph.inputs]
        archive.add_endpoint(name, positional(graph), input_signature=signature)
    archive.write_out(str(path), verbose=False)


def write_artifact(preset_name, folder, formats, opset):
    preset = Preset(preset_name)
    model = preset.load_model()
    graphs = model.deployment_graphs()
    folder = Path(folder)
    folder.mkdir(parents=True)
    manifest_graphs = {}
    for name, graph in graphs.items():
        graph(trace_inputs(graph))
        manifest_graphs[name] = export_onnx(graph, folder / f"{name}.onnx", opset)
        if "savedmodel" in formats:
            manifest_graphs[name]["savedmodel_endpoint"] = name
    if "savedmodel" in formats:
        export_saved_model(graphs, folder / "saved_model")
    shutil.copytree(preset.path, folder / "preset")
    metadata = preset.metadata
    decodes = metadata["task"] in ("translation", "captioning")  # encoder-decoders, driven by zoo.core.decoding
    manifest = {
        "format_version": 1,
        "preset": preset.name,
        "family": metadata["family"],
        "task": metadata["task"],
        "versions": {
            "keras": keras.__version__,
            "tensorflow": tf.__version__,
            "tf2onnx": tf2onnx.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": __import__("onnxruntime").__version__,
        },
        "opset": opset,
        "graphs": manifest_graphs,
        "saved_model": "saved_model" if "savedmodel" in formats else None,
        "tokenizer": preset.tokenizer.to_dict(),
        "special_tokens": {"pad": 0, "bos": 1, "eos": 2} if decodes else {"pad": 0},
        "vocab_sizes": model.token_vocabularies(),
        "max_length": metadata.get("max_length"),
        "max_target_length": metadata.get("max_length") if decodes else None,
        # Captioners: the attention's H x W grid (attention rows reshape to it) and the image the encoder takes.
        "attention_grid": [model.grid_size, model.grid_size] if metadata["task"] == "captioning" else None,
        "image": {"size": model.image_size, "channels": 1, "range": [0.0, 1.0]} if metadata["task"] == "captioning" else None,
        "files": {},
        "parity": None,
    }
    manifest["files"] = {
        str(path.relative_to(folder)): sha256(path) for path in sorted(folder.rglob("*")) if path.is_file()
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False))


def main():
    preset, folder, formats, opset = sys.argv[1:]
    try:
        write_artifact(preset, folder, formats.split(","), int(opset))
    except ZooError as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
