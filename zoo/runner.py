"""A Keras model's deployment graphs as a `run(graph, inputs) -> numpy outputs` function.

The numpy decoding loops in `zoo.core.decoding` take such a function, so Keras and onnxruntime
decode through the same code. Inputs a graph does not take are dropped, as onnxruntime does.
"""
import numpy as np


def keras_runner(model):
    graphs = model.deployment_graphs()
    accepted = {name: {tensor.name for tensor in graph.inputs} for name, graph in graphs.items()}

    def run(graph, inputs):
        outputs = graphs[graph].predict_on_batch({name: value for name, value in inputs.items() if name in accepted[graph]})
        return {name: np.asarray(value) for name, value in outputs.items()}

    return run
