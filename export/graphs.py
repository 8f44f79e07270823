"""Traces a preset's deployment graphs to ONNX and a SavedModel and writes the manifest.

Run as `python -m export.graphs PRESET FOLDER FORMATS OPSET` under KERAS_BACKEND=tensorflow
(`export.artifact` does this); it fills the empty FOLDER, which the caller moves into place.
"""
import shutil
import sys
from pathlib import Path

import keras
import numpy as np
import onnx
import tensorflow as tf
import tf2onnx

from export.recurrent_graphs import native_graph
from export.search_graphs import beam_search, beam_search_contract, candidate_step, candidate_step_contract, greedy_search, greedy_search_contract
from zoo.core.decoding import rows_of
from zoo.core.errors import ZooError
from zoo.core.folders import MARKER, sha256
from zoo.core.manifest import FORMAT_VERSION, write_manifest
from zoo.presets import HELD_OUT, Preset

AXIS_NAMES = ("batch", "time")
TRACE_SIZES = (2, 16)  # batch, time: 16 frames pair up evenly through a listener's pyramid of up to 4 levels


def trace_inputs(graph):
    """Small inputs for the first call that export requires, with every unknown axis filled in."""
    return {
        tensor.name: np.ones([TRACE_SIZES[axis] if size is None else size for axis, size in enumerate(tensor.shape)], tensor.dtype)
        for tensor in graph.inputs
    }


def tensor_specs(values, roles, graph, name_axes):
    """Name, declared role, shape with symbolic axes and dtype of each ONNX graph input or output; with `name_axes`,
    names the unknown axes in place (tf2onnx calls them unk__N)."""
    specs = []
    for value in values:
        shape = []
        for axis, dim in enumerate(value.type.tensor_type.shape.dim):
            if name_axes and not dim.HasField("dim_value"):
                dim.dim_param = AXIS_NAMES[min(axis, len(AXIS_NAMES) - 1)]
            shape.append(dim.dim_param or dim.dim_value)
        dtype = onnx.helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type).name
        if value.name not in roles:
            raise ZooError(f"the model declares no role for {graph}/{value.name}")
        specs.append({"name": value.name, **roles[value.name], "shape": shape, "dtype": dtype})
    return specs


def export_onnx(model, name, graph, declared, path, opset):
    """The graph as ONNX: built from the weights where `native_graph` can (recurrences), else traced by tf2onnx."""
    native = native_graph(model, name, opset)
    if native is None:
        graph.export(str(path), format="onnx", opset_version=opset, verbose=False)
    return described(native or onnx.load(str(path)), name, declared, path, "tf2onnx" if native is None else "native")


def described(proto, name, declared, path, converter):
    """Saves the ONNX model to `path`, its axes named, checked; returns its manifest entry."""
    inputs, outputs = (tensor_specs(values, declared["tensors"], name, converter == "tf2onnx") for values in (proto.graph.input, proto.graph.output))
    onnx.save(proto, str(path))
    onnx.checker.check_model(str(path), full_check=True)
    return {"kind": declared["kind"], "onnx": path.name, "converter": converter, "inputs": inputs, "outputs": outputs}


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
    graphs, contract = model.deployment_graphs(), model.contract()
    folder = Path(folder)
    manifest_graphs = {}
    for name, graph in graphs.items():
        graph(trace_inputs(graph))
        manifest_graphs[name] = export_onnx(model, name, graph, contract["graphs"][name], folder / f"{name}.onnx", opset)
    if "decoder_step" in graphs:
        step = onnx.load(str(folder / "decoder_step.onnx"))
        declared = candidate_step_contract(contract["graphs"]["decoder_step"])
        manifest_graphs["candidate_step"] = described(candidate_step(step), "candidate_step", declared, folder / "candidate_step.onnx", "native")
        declared = greedy_search_contract(contract["graphs"]["decoder_step"])
        manifest_graphs["greedy_search"] = described(greedy_search(step), "greedy_search", declared, folder / "greedy_search.onnx", "native")
        declared = beam_search_contract(contract["graphs"]["decoder_step"])
        manifest_graphs["beam_search"] = described(beam_search(step), "beam_search", declared, folder / "beam_search.onnx", "native")
    if "savedmodel" in formats:
        export_saved_model(graphs, folder / "saved_model")
    shutil.copytree(preset.path, folder / "preset", ignore=shutil.ignore_patterns(MARKER))
    metadata = preset.metadata
    decodes = any(spec["kind"] == "decoder_step" for spec in manifest_graphs.values())
    held_out = preset.held_out() if decodes else None
    manifest = {
        "format_version": FORMAT_VERSION,
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
        "vocabularies": contract["vocabularies"],
        "tokenizer": preset.tokenizer.to_dict(),
        "max_length": metadata.get("max_length"),
        "max_target_length": metadata.get("max_length") if decodes else None,
        # Captioners: the attention's H x W grid (attention rows reshape to it) and the image the encoder takes.
        "attention_grid": contract.get("attention_grid"),
        "image": contract.get("image"),
        # Spellers: how serving computes the frames the encoder takes.
        "audio": contract.get("audio"),
        # The encoded held-out inputs the parity gate decodes, shipped with the preset: no training code needed.
        "held_out": {"file": f"preset/{HELD_OUT}", "count": rows_of(held_out)} if held_out is not None else None,
        "files": {str(path.relative_to(folder)): sha256(path) for path in sorted(folder.rglob("*")) if path.is_file()},
        "parity": None,
    }
    write_manifest(folder, manifest)


def main():
    preset, folder, formats, opset = sys.argv[1:]
    try:
        write_artifact(preset, folder, formats.split(","), int(opset))
    except ZooError as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
