"""Deployment graphs of the recurrent models built directly from the Keras weights instead of traced by tf2onnx.

tf2onnx turns every Keras recurrent layer into a `Loop` running 28 to 45 small ops per step, whose overhead
dominates at small batches. `native_graph` builds the seq2seq `encoder` graph with ONNX's fused GRU or LSTM
node, and the vanilla RNN's `sequence` graph with a `Scan` of a Gemm and a Tanh per step after one input projection
for all steps: onnxruntime's fused RNN node applies tanh one element at a time and took 77 ms at batch 64
against the Scan's 30 (and tf2onnx's 40).

The encoder-decoders' `decoder_step` has no loop, but tf2onnx traces it into 36 to 57 nodes, most of them slicing,
casting and reshaping, which cost more than its products at batch 1. Built here from 17 to 30 plain nodes, with
the products grouped by operand (see `decoder_step`), a step is 1.4 to 1.5 times faster at batch 1 (75 against
106 us of CPU on sat_fashion_scenes, one thread), 1.2 times with the Bible's 4000-token readout, and 1.15 to 1.2
times at batch 64. ONNX's fused GRU and LSTM nodes, run for one step, were 1.2 to 1.4 times slower than the plain
cell at batch 1.

The graphs keep the inputs and outputs of the Keras graph; every other graph gets None.

Padding (id 0) must be a suffix and leave at least one id in every row: a row's count of ids is its
`sequence_lens`, while Keras would also skip a masked step inside a row.
"""
import keras
import numpy as np
import onnx
from keras import ops
from onnx import TensorProto, helper, numpy_helper

from zoo.models import AttentionSeq2Seq, ListenAttendSpell, Seq2Seq, ShowAttendTell, VanillaRNN

AXIS_NAMES = ("batch", "time")
OPS = {"gru": "GRU", "lstm": "LSTM"}
# Where each ONNX gate's block sits among the Keras kernel's columns: Keras orders LSTM gates i, f, c, o, ONNX i, o, f, c.
GATE_BLOCKS = {"gru": [0, 1, 2], "lstm": [0, 3, 1, 2]}


class Graph:
    """Nodes and weights of one ONNX graph being built; every method returns the name of the tensor it adds (`split`: of each)."""

    def __init__(self):
        self.nodes, self.weights = [], {}

    def weight(self, name, array):
        """A constant; one name is one constant, however often it is asked for."""
        self.weights.setdefault(name, numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, outputs=None, **attributes):
        """Names the outputs after the node unless `outputs` are given; returns the first."""
        outputs = outputs or [f"{op}_{len(self.nodes)}"]
        self.nodes.append(helper.make_node(op, inputs, outputs, **attributes))
        return outputs[0]

    def split(self, x, sizes):
        """The blocks of the last axis, of these sizes."""
        outputs = [f"Split_{len(self.nodes)}_{i}" for i in range(len(sizes))]
        self.node("Split", [x, self.weight(f"{outputs[0]}_sizes", sizes)], outputs, axis=-1)
        return outputs

    def leading_size(self, x):
        """The length of `x`'s first axis, as a shape (1,)."""
        return self.node("Slice", [self.node("Shape", [x]), self.weight("leading_start", [0]), self.weight("leading_end", [1])])

    def dense(self, x, layer, output=None):
        kernel, bias = (self.weight(variable.path, ops.convert_to_numpy(variable)) for variable in (layer.kernel, layer.bias))
        return self.node("Add", [self.node("MatMul", [x, kernel]), bias], [output] if output else None)

    def model(self, name, inputs, outputs, opset):
        """The checked model; `inputs` and `outputs` map names to (ONNX dtype, shape) with axes named or sized."""
        specs = [[helper.make_tensor_value_info(key, *spec) for key, spec in values.items()] for values in (inputs, outputs)]
        graph = helper.make_graph(self.nodes, name, *specs, initializer=list(self.weights.values()))
        model = helper.make_model_gen_version(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="attention-zoo")
        onnx.checker.check_model(model, full_check=True)
        return model


def to_numpy(variable):
    return ops.convert_to_numpy(variable)


def named_axes(shape, first="batch"):
    """The ONNX axes of a Keras input of this shape (first axis left out), the unknown one named."""
    return [first, *("time" if size is None else size for size in shape)]


def onnx_gates(array, kind):
    """The last axis' gate blocks in ONNX's order."""
    blocks = np.split(array, len(GATE_BLOCKS[kind]), axis=-1)
    return np.concatenate([blocks[i] for i in GATE_BLOCKS[kind]], axis=-1)


def cell_weights(cell, kind):
    """ONNX W (gates * units, input), R (gates * units, units) and B (2 * gates * units) of one Keras cell."""
    kernel, recurrent_kernel, bias = (ops.convert_to_numpy(variable) for variable in (cell.kernel, cell.recurrent_kernel, cell.bias))
    # A GRU with reset_after (linear_before_reset in ONNX) has input and recurrent biases, the others one bias.
    biases = bias if kind == "gru" else np.stack([bias, np.zeros_like(bias)])
    return onnx_gates(kernel, kind).T, onnx_gates(recurrent_kernel, kind).T, onnx_gates(biases, kind).reshape(-1)


def recurrent(graph, x, lengths, layers, kind, name):
    """One ONNX node running the Keras layers (forward, and backward if two) over time-major `x`.

    Returns its outputs (time, directions, batch, units) and final states (directions, batch, units).
    """
    per_direction = [cell_weights(layer.cell, kind) for layer in layers]
    weights = [graph.weight(f"{name}_{key}", np.stack(arrays)) for key, arrays in zip("WRB", zip(*per_direction))]
    attributes = {"hidden_size": layers[0].cell.units, "direction": "bidirectional" if len(layers) == 2 else "forward"}
    if kind == "gru":
        attributes["linear_before_reset"] = 1
    outputs = [f"{name}_Y", f"{name}_Y_h"]  # ONNX's names for them
    graph.node(OPS[kind], [x, *weights, lengths], outputs, **attributes)
    return outputs


def padding(graph, ids):
    """The mask of real ids (batch, time) and each row's length (batch,), int32 as `sequence_lens` takes it."""
    mask = graph.node("Not", [graph.node("Equal", [ids, graph.weight("padding_id", np.array(0, "int32"))])])
    return mask, graph.node("ReduceSum", [graph.node("Cast", [mask], to=TensorProto.INT32), graph.weight("time_axis", [1])], keepdims=0)


def embedded_time_major(graph, ids, embedding):
    """Embeddings (time, batch, features), the layout of the recurrent nodes: transposing the ids is cheaper."""
    table = graph.weight(embedding.embeddings.path, ops.convert_to_numpy(embedding.embeddings))
    return graph.node("Gather", [table, graph.node("Transpose", [ids], perm=[1, 0])])


def batch_major(graph, outputs, final, mask, layer):
    """Recurrent outputs as Keras returns them: (batch, time, directions * units), and at padded steps either
    zeros (`zero_output_for_mask`, which Bidirectional forces on) or, as a plain Keras RNN carries its last
    output through masked steps, the final state. ONNX leaves those steps unspecified."""
    outputs = graph.node("Reshape", [graph.node("Transpose", [outputs], perm=[2, 0, 1, 3]), graph.weight("merge_last_axes", [0, 0, -1])])
    fill = graph.weight("zero", np.float32(0)) if layer.zero_output_for_mask else graph.node("Transpose", [final], perm=[1, 0, 2])
    return graph.node("Where", [graph.node("Unsqueeze", [mask, graph.weight("feature_axis", [2])]), outputs, fill])


def scan_rnn(graph, x, batch_shape, cell, name):
    """A Keras SimpleRNN layer over time-major `x` as an ONNX Scan: the input projection of every step in one MatMul,
    then `h = tanh(h R + x_t W + b)`, one Gemm and one Tanh, at every step, padded ones too: padding is a suffix, so
    what a padded step computes reaches no real step (`vanilla_rnn_sequence` reads each row's state at its last real
    step). Masking each step instead, as Keras does, cost a third node per step and made the graph 1.8 times slower at
    batch 1 on rnn_surname_origin (`python -m benchmarks`, one thread: 0.30 against 0.16 ms).

    Returns the outputs (time, batch, units).
    """
    kernel, recurrent_kernel, bias = (ops.convert_to_numpy(variable) for variable in (cell.kernel, cell.recurrent_kernel, cell.bias))
    projected = graph.node("Add", [graph.node("MatMul", [x, graph.weight(f"{name}_kernel", kernel)]), graph.weight(f"{name}_bias", bias)])
    recurrent_weights = graph.weight(f"{name}_recurrent_kernel", recurrent_kernel)  # read by the body from the outer graph
    state = ["batch", cell.units]
    body = helper.make_graph(
        [
            helper.make_node("Gemm", ["h", recurrent_weights, "x_t"], ["pre"]),
            helper.make_node("Tanh", ["pre"], ["h_next"]),
            helper.make_node("Identity", ["h_next"], ["y_t"]),
        ],
        f"{name}_step",
        [helper.make_tensor_value_info("h", TensorProto.FLOAT, state), helper.make_tensor_value_info("x_t", TensorProto.FLOAT, state)],
        [helper.make_tensor_value_info("h_next", TensorProto.FLOAT, state), helper.make_tensor_value_info("y_t", TensorProto.FLOAT, state)],
    )
    shape = graph.node("Concat", [batch_shape, graph.weight(f"{name}_units", [cell.units])], axis=0)
    initial = graph.node("Expand", [graph.weight(f"{name}_zeros", np.zeros((1, cell.units), "float32")), shape])
    outputs = [f"{name}_after_padding", f"{name}_outputs"]
    graph.nodes.append(helper.make_node("Scan", [initial, projected], outputs, num_scan_inputs=1, body=body))
    return outputs[1]


def vanilla_rnn_sequence(model, opset):
    graph = Graph()
    mask, lengths = padding(graph, "tokens")
    batch_shape = graph.leading_size("tokens")
    x = embedded_time_major(graph, "tokens", model.embedding)
    # Each row's last real step, as GatherElements indices (1, batch, units) into time-major outputs.
    last_step = graph.node("Sub", [lengths, graph.weight("one", np.array(1, "int32"))])
    index_shape = graph.node("Concat", [graph.weight("one_step", [1]), batch_shape, graph.weight("units", [model.hidden_dim])], axis=0)
    last_index = graph.node("Expand", [graph.node("Reshape", [last_step, graph.weight("row_axis_only", [1, -1, 1])]), index_shape])
    finals = []  # (1, batch, units) per layer: the state after each row's last real id
    for i, layer in enumerate(model.recurrent):
        x = scan_rnn(graph, x, batch_shape, layer.cell, f"rnn_{i}")
        finals.append(graph.node("GatherElements", [x, last_index], axis=0))
    graph.node("Transpose", [graph.node("Concat", finals, axis=0)], ["new_state"], perm=[1, 0, 2])
    if model.num_classes is None:
        # Keras carries the state through padded steps: their outputs are the final state.
        step_mask = graph.node("Unsqueeze", [graph.node("Transpose", [mask], perm=[1, 0]), graph.weight("step_axis", [2])])  # (time, batch, 1)
        features = graph.node("Transpose", [graph.node("Where", [step_mask, x, finals[-1]])], perm=[1, 0, 2])
        logits_shape = ["batch", "time", model.vocab_size]
    else:
        features, logits_shape = graph.node("Squeeze", [finals[-1], graph.weight("step_axis_only", [0])]), ["batch", model.num_classes]
    graph.dense(features, model.head, "logits")
    output_specs = {"logits": (TensorProto.FLOAT, logits_shape), "new_state": (TensorProto.FLOAT, ["batch", model.num_layers, model.hidden_dim])}
    return graph.model("sequence", {"tokens": (TensorProto.INT32, list(AXIS_NAMES))}, output_specs, opset)


def encoder(model, opset):
    graph = Graph()
    mask, lengths = padding(graph, "source")
    x = embedded_time_major(graph, "source", model.source_embedding)
    layers = [model.encoder.forward_layer, model.encoder.backward_layer] if model.bidirectional else [model.encoder]
    outputs, final = recurrent(graph, x, lengths, layers, model.encoder_cell, "encoder")
    return memory_graph(graph, model, batch_major(graph, outputs, final, mask, layers[0]), final, mask, {"source": (TensorProto.INT32, list(AXIS_NAMES))}, opset)


def listener(model, opset):
    """The speller's encoder: a bidirectional GRU node per level of the pyramid, each reading pairs of the level
    below; a frame is padding where all its bins are 0, and a pair where its first frame is."""
    graph = Graph()
    loudest = graph.node("ReduceMax", [graph.node("Abs", ["frames"])], axes=[2], keepdims=0)
    mask = graph.node("Not", [graph.node("Equal", [loudest, graph.weight("zero", np.float32(0))])])
    every_other = [graph.weight(name, [value]) for name, value in (("start", 0), ("end", 2**31 - 1), ("time_axis", 1), ("pair_step", 2))]
    x = "frames"
    for level, layer in enumerate(model.listener):
        x = graph.node("Reshape", [x, graph.weight(f"pairs_{level}", [0, -1, 2 * (model.mel_bins if level == 0 else model.encoder_output_dim)])])
        mask = graph.node("Slice", [mask, *every_other])
        lengths = graph.node("ReduceSum", [graph.node("Cast", [mask], to=TensorProto.INT32), graph.weight("time_axis", [1])], keepdims=0)
        layers = [layer.forward_layer, layer.backward_layer]
        outputs, final = recurrent(graph, graph.node("Transpose", [x], perm=[1, 0, 2]), lengths, layers, "gru", f"listener_{level}")
        x = batch_major(graph, outputs, final, mask, layers[0])
    return memory_graph(graph, model, x, final, mask, {"frames": (TensorProto.FLOAT, ["batch", "time", model.mel_bins])}, opset)


def memory_graph(graph, model, encoder_outputs, final, mask, inputs, opset):
    """The encoder graph from its top recurrent outputs (batch, time, features), their final states (directions,
    batch, units) and the mask of real positions: the memory, the projected keys and the decoder's initial state."""
    graph.node("Identity", [encoder_outputs], ["encoder_outputs"])
    graph.node("Cast", [mask], ["source_mask"], to=TensorProto.FLOAT)
    # Final hidden states, forward then backward, side by side as Keras concatenates them.
    final = graph.node("Reshape", [graph.node("Transpose", [final], perm=[1, 0, 2]), graph.weight("merge_directions", [0, -1])])
    bridge = graph.node("Tanh", [graph.dense(final, model.bridge)])
    if isinstance(model, Seq2Seq):
        graph.node("Concat", [bridge, final], ["initial_state"], axis=-1)
    else:
        graph.node("Identity", [bridge], ["initial_state"])
    output_specs = {
        "encoder_outputs": (TensorProto.FLOAT, ["batch", "time", model.encoder_output_dim]),
        "initial_state": (TensorProto.FLOAT, ["batch", model.state_size]),
        "source_mask": (TensorProto.FLOAT, list(AXIS_NAMES)),
    }
    if model.has_attention:
        graph.dense("encoder_outputs", model.attention.key_projection, "projected_keys")
        output_specs["projected_keys"] = (TensorProto.FLOAT, ["batch", "time", model.attention_units])
    # In the Keras graph's order, which flattens its dict of outputs by sorted key.
    return graph.model("encoder", inputs, dict(sorted(output_specs.items())), opset)


def attend(graph, query, attention, values, keys, mask=None):
    """Bahdanau attention of `query` (rows, units) over `values` (sources, time, features), given their projected
    `keys`, the rows being each source's hypotheses, source-major: writes the weights (rows, time) as the output
    `attention` and returns the context (rows, features).

    Where `mask` (sources, time) is not 1, the score is -1e9, which the softmax turns into an exact 0 as in Keras."""
    per_source = graph.node("Concat", [graph.leading_size(keys), graph.weight("rows_per_source", [-1, 1, attention.units])], axis=0)
    source_axis = graph.weight("source_axis", [1])
    query = graph.node("Reshape", [query, per_source])  # (sources, rows per source, 1, units)
    energies = graph.node("Tanh", [graph.node("Add", [graph.node("Unsqueeze", [keys, source_axis]), query])])
    # v as a (units, 1) matrix: onnxruntime multiplies by a vector 9 times slower at batch 64.
    scores = graph.node("Squeeze", [graph.node("MatMul", [energies, graph.weight(attention.score.kernel.path, to_numpy(attention.score.kernel))]), graph.weight("score_axis", [3])])
    if mask is not None:
        real = graph.node("Greater", [graph.node("Unsqueeze", [mask, source_axis]), graph.weight("half", np.float32(0.5))])
        scores = graph.node("Where", [real, scores, graph.weight("padding_score", np.float32(-1e9))])
    weights = graph.node("Softmax", [scores], axis=-1)
    graph.node("Flatten", [weights], ["attention"], axis=2)
    return graph.node("Flatten", [graph.node("MatMul", [weights, values])], axis=2)


def attended(graph, model, hidden, recurrent_kernel, recurrent_bias, gate_sizes):
    """The recurrent products, split into `gate_sizes` blocks, and the context that `hidden` attends to (gated for
    the captioner); one Gemm computes the recurrent products, the attention's query and the gate's logit."""
    columns, biases = [recurrent_kernel, to_numpy(model.attention.query_projection.kernel)], [recurrent_bias, np.zeros(model.attention_units, "float32")]
    if isinstance(model, ShowAttendTell):
        columns, biases = columns + [to_numpy(model.gate.kernel)], biases + [to_numpy(model.gate.bias)]
    products = graph.node("Gemm", [hidden, graph.weight("hidden_kernel", np.hstack(columns)), graph.weight("hidden_bias", np.concatenate(biases))])
    blocks = graph.split(products, gate_sizes + [kernel.shape[1] for kernel in columns[1:]])
    recurrent_gates, (query, *gate) = blocks[: len(gate_sizes)], blocks[len(gate_sizes) :]
    if isinstance(model, ShowAttendTell):
        context = attend(graph, query, model.attention, "annotations", "projected_keys")
        return recurrent_gates, graph.node("Mul", [graph.node("Sigmoid", gate), context])
    return recurrent_gates, attend(graph, query, model.attention, "encoder_outputs", "projected_keys", "source_mask")


def gru_update(graph, input_gates, recurrent_gates, hidden, units, output=None):
    """Keras' GRUCell (reset_after) from its input and recurrent products, biases included, each split into the
    update and reset gates' block and the candidate's: the new hidden state."""
    update, reset = graph.split(graph.node("Sigmoid", [graph.node("Add", [input_gates[0], recurrent_gates[0]])]), [units, units])
    candidate = graph.node("Tanh", [graph.node("Add", [input_gates[1], graph.node("Mul", [reset, recurrent_gates[1]])])])
    # z h + (1 - z) candidate, one multiplication fewer
    return graph.node("Add", [candidate, graph.node("Mul", [update, graph.node("Sub", [hidden, candidate])])], [output] if output else None)


def lstm_update(graph, gates, cell, units):
    """Keras' LSTMCell from the sum of its products, biases included: the new hidden and cell states."""
    input_gate, forget, candidate, output_gate = graph.split(gates, [units] * 4)
    sigmoid = lambda x: graph.node("Sigmoid", [x])
    new_cell = graph.node("Add", [graph.node("Mul", [sigmoid(forget), cell]), graph.node("Mul", [sigmoid(input_gate), graph.node("Tanh", [candidate])])])
    return graph.node("Mul", [sigmoid(output_gate), graph.node("Tanh", [new_cell])]), new_cell


def decoder_step(model, opset):
    """One step of the decoder cell and readout, their products grouped by operand: one Gemm for the previous
    hidden state's, one for the context's, and a row of a table for the previous token's."""
    graph = Graph()
    cell, units = model.decoder_cell, model.decoder_units
    gru = isinstance(cell, keras.layers.GRUCell)
    kernel, recurrent_kernel, bias = (to_numpy(variable) for variable in (cell.kernel, cell.recurrent_kernel, cell.bias))
    input_bias, recurrent_bias = bias if gru else (bias, np.zeros_like(bias))
    # The GRU's reset gate scales the candidate's recurrent product alone.
    gate_sizes = [2 * units, units] if gru else [4 * units]

    if isinstance(model, Seq2Seq):
        hidden, context = graph.split("state", [units, model.context_size])  # the fixed context rides in the state
        recurrent = graph.node("Gemm", [hidden, graph.weight("recurrent_kernel", recurrent_kernel), graph.weight("recurrent_bias", recurrent_bias)])
        recurrent_gates = graph.split(recurrent, gate_sizes)
    else:
        hidden, previous_cell = ("state", None) if gru else graph.split("state", [units, units])
        recurrent_gates, context = attended(graph, model, hidden, recurrent_kernel, recurrent_bias, gate_sizes)

    readout = model.readout_projection if model.tie_embeddings else model.output_projection
    readout_kernel, readout_bias, embeddings = (to_numpy(variable) for variable in (readout.kernel, readout.bias, model.target_embedding.embeddings))
    # Rows of the kernels: the cell's input is [embedded, context], the readout's [new hidden, context, embedded].
    embedded_kernel, context_kernel = np.split(kernel, [model.embedding_dim])
    hidden_readout, context_readout, embedded_readout = np.split(readout_kernel, [units, units + model.context_size])
    # Every token's products, rounded once from float64. Its vocabulary x (gates + readout) floats make the
    # untied Bible preset's graph 86 MB (tf2onnx's: 14), and its step 15% cheaper than with the products computed.
    table = embeddings.astype("float64") @ np.hstack([embedded_kernel, embedded_readout]) + np.concatenate([input_bias, readout_bias])
    token_products = graph.node("Gather", [graph.weight("token_table", table.astype("float32")), "previous_token"])
    products = graph.node("Gemm", [context, graph.weight("context_kernel", np.hstack([context_kernel, context_readout])), token_products])
    *input_gates, readout_sum = graph.split(products, gate_sizes + [readout_kernel.shape[1]])

    if not gru:
        new_hidden, new_cell = lstm_update(graph, graph.node("Add", [input_gates[0], recurrent_gates[0]]), previous_cell, units)
        graph.node("Concat", [new_hidden, new_cell], ["new_state"], axis=-1)
    elif isinstance(model, Seq2Seq):
        new_hidden = gru_update(graph, input_gates, recurrent_gates, hidden, units)
        graph.node("Concat", [new_hidden, context], ["new_state"], axis=-1)
    else:
        new_hidden = gru_update(graph, input_gates, recurrent_gates, hidden, units, "new_state")
    # The readout gives the logits, or with tied embeddings the features that TiedOutput scores against them.
    readout_output = graph.node("Gemm", [new_hidden, graph.weight("hidden_readout", hidden_readout), readout_sum], None if model.tie_embeddings else ["logits"])
    if model.tie_embeddings:
        output_bias = graph.weight(model.output_projection.bias.path, to_numpy(model.output_projection.bias))
        graph.node("Gemm", [readout_output, graph.weight(model.target_embedding.embeddings.path, embeddings), output_bias], ["logits"], transB=1)

    memory = {name: (TensorProto.FLOAT, named_axes(shape, "sources")) for name, shape in model.memory_inputs().items()}
    inputs = {"previous_token": (TensorProto.INT32, ["batch"]), "state": (TensorProto.FLOAT, ["batch", model.state_size]), **memory}
    outputs = {"logits": (TensorProto.FLOAT, ["batch", len(embeddings)]), "new_state": (TensorProto.FLOAT, ["batch", model.state_size])}
    if model.has_attention:
        outputs["attention"] = (TensorProto.FLOAT, named_axes(model.memory_inputs()["projected_keys"][:1]))  # a weight per key
    # Sorted, as tf2onnx writes them.
    return graph.model("decoder_step", dict(sorted(inputs.items())), dict(sorted(outputs.items())), opset)


def native_graph(model, graph_name, opset=17):
    """The ONNX model of `model.deployment_graphs()[graph_name]` built from the weights, or None where there is
    none (VanillaRNN's `step`, the captioner's `encoder`). Takes opset 13 or later."""
    if isinstance(model, VanillaRNN) and graph_name == "sequence":
        return vanilla_rnn_sequence(model, opset)
    if isinstance(model, ListenAttendSpell) and graph_name == "encoder":
        return listener(model, opset)
    if isinstance(model, (Seq2Seq, AttentionSeq2Seq)) and graph_name == "encoder":
        return encoder(model, opset)
    if isinstance(model, (Seq2Seq, AttentionSeq2Seq, ShowAttendTell)) and graph_name == "decoder_step":
        return decoder_step(model, opset)
    return None
