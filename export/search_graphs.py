"""Greedy decoding as one ONNX graph: an ONNX `Loop` around the exported `decoder_step`.

serving's numpy loop calls `decoder_step` once per token: at batch 1 the call and the bookkeeping around it cost
more than the step's products. Inside a `Loop` onnxruntime runs every step without returning to Python: each row
takes its likeliest candidate (never padding or the start id), a row that has emitted the end id pads from then on
at no cost, and the loop ends when every row has ended or after `max_length` tokens.

Rows do not leave the batch as in the numpy loop, which changes nothing in a row's tokens but where two candidates
tie within fp32 rounding: the parity gate checks both searches emit the same ids.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from zoo.core.contract import role
from zoo.core.decoding import FIRST_CANDIDATE
from zoo.core.tokenizers import BOS_ID, EOS_ID, PAD_ID

STEP_INPUTS = ("previous_token", "state")
STEP = "step/"  # the prefix of every tensor the step computes inside the loop, apart from the graph's own names


def constant(name, value):
    return numpy_helper.from_array(np.asarray(value), name)


def shape_of(values, name):
    """The named or sized axes of the value called `name`."""
    value = next(value for value in values if value.name == name)
    return [dim.dim_param or dim.dim_value for dim in value.type.tensor_type.shape.dim]


def step_body(step):
    """The loop's body: the step's nodes with their tensors renamed into the loop, then the greedy choice.

    Body inputs: iteration, condition, and the carried token, state and finished flags. Body outputs: whether any row
    goes on, the carried values, and per step the emitted ids, their log-probabilities and (with attention) the weights.
    """
    produced = {name for node in step.graph.node for name in node.output} | set(STEP_INPUTS)
    rename = lambda name: STEP + name if name in produced else name  # memory inputs and weights stay the outer graph's
    nodes = []
    for node in step.graph.node:
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        copy.input[:], copy.output[:] = [rename(name) for name in node.input], [rename(name) for name in node.output]
        nodes.append(copy)
    has_attention = any(output.name == "attention" for output in step.graph.output)
    logits = STEP + "logits"
    constants = [
        constant("first_candidate", [FIRST_CANDIDATE]),
        constant("first_candidate_id", np.int64(FIRST_CANDIDATE)),
        constant("vocabulary_end", [np.iinfo(np.int64).max]),
        constant("vocabulary_axis", [1]),
        constant("end_id", np.int32(EOS_ID)),
        constant("padding_id", np.int32(PAD_ID)),
        constant("no_log_prob", np.float32(0.0)),
    ]
    nodes += [
        # The likeliest candidate (the logits past padding and start) and its log-probability.
        helper.make_node("Slice", [logits, "first_candidate", "vocabulary_end", "vocabulary_axis"], ["candidate_logits"]),
        helper.make_node("ArgMax", ["candidate_logits"], ["best_candidate"], axis=1, keepdims=1),
        helper.make_node("LogSoftmax", [logits], ["vocabulary_log_probs"], axis=1),
        helper.make_node("Slice", ["vocabulary_log_probs", "first_candidate", "vocabulary_end", "vocabulary_axis"], ["candidate_log_probs"]),
        helper.make_node("GatherElements", ["candidate_log_probs", "best_candidate"], ["best_log_prob_column"], axis=1),
        helper.make_node("Squeeze", ["best_log_prob_column", "vocabulary_axis"], ["best_log_prob"]),
        helper.make_node("Add", ["best_candidate", "first_candidate_id"], ["best_id_column"]),
        helper.make_node("Squeeze", ["best_id_column", "vocabulary_axis"], ["best_id"]),
        helper.make_node("Cast", ["best_id"], ["best_token"], to=TensorProto.INT32),
        # A finished row pads at no cost; the loop goes on while any row has not ended.
        helper.make_node("Where", ["finished", "padding_id", "best_token"], ["emitted"]),
        helper.make_node("Where", ["finished", "no_log_prob", "best_log_prob"], ["emitted_log_prob"]),
        helper.make_node("Equal", ["best_token", "end_id"], ["ends_now"]),
        helper.make_node("Or", ["finished", "ends_now"], ["finished_after"]),
        helper.make_node("Not", ["finished_after"], ["going"]),
        helper.make_node("Cast", ["going"], ["going_count"], to=TensorProto.INT32),
        helper.make_node("ReduceMax", ["going_count"], ["any_going_count"], keepdims=0),
        helper.make_node("Cast", ["any_going_count"], ["any_going"], to=TensorProto.BOOL),
        helper.make_node("Identity", [STEP + "new_state"], ["state_after"]),
    ]
    scan = [("emitted", TensorProto.INT32, ["batch"]), ("emitted_log_prob", TensorProto.FLOAT, ["batch"])]
    if has_attention:
        scan.append((STEP + "attention", TensorProto.FLOAT, shape_of(step.graph.output, "attention")))
    state_shape = shape_of(step.graph.input, "state")
    inputs = [
        helper.make_tensor_value_info("iteration", TensorProto.INT64, []),
        helper.make_tensor_value_info("condition", TensorProto.BOOL, []),
        helper.make_tensor_value_info(STEP + "previous_token", TensorProto.INT32, ["batch"]),
        helper.make_tensor_value_info(STEP + "state", TensorProto.FLOAT, state_shape),
        helper.make_tensor_value_info("finished", TensorProto.BOOL, ["batch"]),
    ]
    outputs = [
        helper.make_tensor_value_info("any_going", TensorProto.BOOL, []),
        helper.make_tensor_value_info("best_token", TensorProto.INT32, ["batch"]),
        helper.make_tensor_value_info("state_after", TensorProto.FLOAT, state_shape),
        helper.make_tensor_value_info("finished_after", TensorProto.BOOL, ["batch"]),
        *(helper.make_tensor_value_info(name, dtype, shape) for name, dtype, shape in scan),
    ]
    body = helper.make_graph(nodes, "greedy_step", inputs, outputs, initializer=constants)
    return body, has_attention


def greedy_search_contract(step_declared):
    """The declared roles of the `greedy_search` graph's tensors, from the `decoder_step`'s."""
    tensors = {name: declared for name, declared in step_declared["tensors"].items() if name not in ("previous_token", "logits", "new_state")}
    tensors |= {"max_length": role("length_limit"), "ids": role("tokens", "target"), "log_probs": role("log_probs")}
    return {"kind": "greedy_search", "tensors": tensors}


def greedy_search(step):
    """The `greedy_search` graph of an exported `decoder_step` model: the step's inputs but the previous token,
    `state` being the encoder's initial state, plus `max_length` (1,); outputs `ids` (batch, steps) with the end id
    and padding after it, `log_probs` (batch, steps) of each emitted id (0 after the end) and, where the step
    has attention, `attention` (batch, steps, positions), which after a row's end weighs nothing that was emitted."""
    body, has_attention = step_body(step)
    memory = [value for value in step.graph.input if value.name not in STEP_INPUTS]
    state = next(value for value in step.graph.input if value.name == "state")
    scanned = ["step_ids", "step_log_probs"] + ["step_attention"] * has_attention
    nodes = [
        helper.make_node("Squeeze", ["max_length"], ["max_length_scalar"]),
        helper.make_node("Cast", ["max_length_scalar"], ["steps"], to=TensorProto.INT64),  # int32 in, as every declared tensor
        helper.make_node("Shape", ["state"], ["state_shape"]),
        helper.make_node("Slice", ["state_shape", "zero", "one", "zero"], ["batch_size"]),
        helper.make_node("ConstantOfShape", ["batch_size"], ["start_tokens"], value=helper.make_tensor("start", TensorProto.INT32, [1], [BOS_ID])),
        helper.make_node("ConstantOfShape", ["batch_size"], ["none_finished"], value=helper.make_tensor("false", TensorProto.BOOL, [1], [False])),
        helper.make_node("Loop", ["steps", "true", "start_tokens", "state", "none_finished"], ["last_token", "last_state", "all_finished", *scanned], body=body),
        helper.make_node("Transpose", ["step_ids"], ["ids"], perm=[1, 0]),
        helper.make_node("Transpose", ["step_log_probs"], ["log_probs"], perm=[1, 0]),
    ]
    outputs = [
        helper.make_tensor_value_info("ids", TensorProto.INT32, ["batch", "steps"]),
        helper.make_tensor_value_info("log_probs", TensorProto.FLOAT, ["batch", "steps"]),
    ]
    if has_attention:
        nodes.append(helper.make_node("Transpose", ["step_attention"], ["attention"], perm=[1, 0, 2]))
        positions = shape_of(step.graph.output, "attention")[1]
        outputs.append(helper.make_tensor_value_info("attention", TensorProto.FLOAT, ["batch", "steps", positions]))
    constants = [constant("zero", [0]), constant("one", [1]), constant("true", np.bool_(True))]
    inputs = [state, *memory, helper.make_tensor_value_info("max_length", TensorProto.INT32, [1])]
    graph = helper.make_graph(nodes, "greedy_search", inputs, outputs, initializer=list(step.graph.initializer) + constants)
    model = helper.make_model_gen_version(graph, opset_imports=step.opset_import, producer_name="attention-zoo")
    onnx.checker.check_model(model, full_check=True)
    return model
