"""A Keras model's deployment graphs as a runner: `run(graph, inputs) -> {name: numpy array}` and their declared `graphs`.

The numpy decoding loops in `zoo.core.decoding` take a runner, so Keras and onnxruntime (`serving.artifact.Artifact`)
decode through the same code.
"""
import numpy as np

from zoo.core.contract import Graphs


def graph_specs(graphs, declared):
    """{graph: {"kind", "inputs", "outputs"}} as the manifest has them, each tensor {"name", "role", ("vocabulary")}."""
    specs = {}
    for name, graph in graphs.items():
        tensors = declared[name]["tensors"]
        inputs = [tensor.name for tensor in graph.inputs]
        specs[name] = {
            "kind": declared[name]["kind"],
            "inputs": [{"name": tensor, **tensors[tensor]} for tensor in inputs],
            "outputs": [{"name": tensor, **tensors[tensor]} for tensor in tensors if tensor not in inputs],
        }
    return specs


class KerasRunner:
    def __init__(self, model):
        self.keras_graphs = model.deployment_graphs()
        contract = model.contract()
        self.graphs = Graphs(graph_specs(self.keras_graphs, contract["graphs"]))
        self.vocabularies = contract["vocabularies"]

    def run(self, graph, inputs):
        outputs = self.keras_graphs[graph].predict_on_batch(inputs)
        return {name: np.asarray(value) for name, value in outputs.items()}
