"""Graphs around the exported `decoder_step`: the candidate step, and whole searches as an ONNX `Loop`, greedy or beam.

The candidate step is the decoder step followed by its rows' likeliest next ids and their log-probabilities, for
serving's numpy loop: ranking the vocabulary in onnxruntime, on every core, takes less time than numpy's ranking of
the logits the step would return.

serving's numpy loop calls `decoder_step` once per token: at batch 1 the call and the bookkeeping around it cost
more than the step's products. Inside a `Loop` onnxruntime runs every step without returning to Python. Greedy:
each row takes its likeliest candidate (never padding or the start id). Beam: each source keeps its best `width`
hypotheses by `TopK` over its beams x vocabulary, and the graph returns every step's parents and tokens for
`zoo.core.decoding.graph_beam_search` to trace the best back. A hypothesis that has emitted the end id pads from
then on at no cost, and the loop ends when every row has ended or after `max_length` tokens.

Ended sources stay in the batch until the last one ends, where the numpy loop sheds their rows. That changes nothing
in their tokens but where two candidates tie within fp32 rounding (the parity gate checks both searches emit the same
ids), and makes the graphs slower than the numpy loop on large batches of sentences of unequal lengths.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from zoo.core.contract import role
from zoo.core.decoding import FIRST_CANDIDATE
from zoo.core.tokenizers import BOS_ID, EOS_ID, PAD_ID

STEP_INPUTS = ("previous_token", "state")
STEP = "step/"  # the prefix of every tensor the step computes inside the loop, apart from the graph's own names
# From this many ids, the candidate step ranks the vocabulary in two stages (`ranking`).
BLOCKWISE_VOCABULARY = 1000


def constant(name, value):
    return numpy_helper.from_array(np.asarray(value), name)


def shape_of(values, name):
    """The named or sized axes of the value called `name`."""
    value = next(value for value in values if value.name == name)
    return [dim.dim_param or dim.dim_value for dim in value.type.tensor_type.shape.dim]


def renamed_step(step):
    """The step's nodes with the tensors they compute renamed into a loop's body (memory inputs and weights stay the
    outer graph's)."""
    produced = {name for node in step.graph.node for name in node.output} | set(STEP_INPUTS)
    rename = lambda name: STEP + name if name in produced else name
    nodes = []
    for node in step.graph.node:
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        copy.input[:], copy.output[:] = [rename(name) for name in node.input], [rename(name) for name in node.output]
        nodes.append(copy)
    return nodes


def has_attention(step):
    return any(output.name == "attention" for output in step.graph.output)


def candidate_step_contract(step_declared):
    """The declared roles of the `candidate_step` graph's tensors, from the `decoder_step`'s."""
    tensors = {name: declared for name, declared in step_declared["tensors"].items() if name != "logits"}
    tensors |= {"candidate_count": role("candidate_count"), "candidate_ids": role("candidates", "target"), "candidate_log_probs": role("candidate_log_probs")}
    return {"kind": "candidate_step", "tensors": tensors}


def candidate_step(step):
    """The `candidate_step` graph of an exported `decoder_step` model: the step's inputs and `candidate_count` (1,);
    its outputs but the logits, and per row the `candidate_count` likeliest ids past padding and start, best first,
    as `candidate_ids`, and their `candidate_log_probs`."""
    opset = next(imported.version for imported in step.opset_import if imported.domain in ("", "ai.onnx"))
    constants, ranked = ranking(shape_of(step.graph.output, "logits")[1], opset)
    nodes = list(step.graph.node) + [
        helper.make_node("Cast", ["candidate_count"], ["candidates/count"], to=TensorProto.INT64),
        *ranked,
        # onnxruntime's LogSoftmax and a gather take a third of the time of its ReduceLogSumExp over 8,000 ids.
        helper.make_node("LogSoftmax", ["logits"], ["candidates/vocabulary_log_probs"], axis=1),
        helper.make_node("GatherElements", ["candidates/vocabulary_log_probs", "candidates/best_ids"], ["candidate_log_probs"], axis=1),
        helper.make_node("Cast", ["candidates/best_ids"], ["candidate_ids"], to=TensorProto.INT32),  # int32, as every declared tensor
    ]
    count = helper.make_tensor_value_info("candidate_count", TensorProto.INT32, [1])
    outputs = [output for output in step.graph.output if output.name != "logits"] + [
        helper.make_tensor_value_info("candidate_ids", TensorProto.INT32, ["batch", "count"]),
        helper.make_tensor_value_info("candidate_log_probs", TensorProto.FLOAT, ["batch", "count"]),
    ]
    graph = helper.make_graph(nodes, "candidate_step", [*step.graph.input, count], outputs, initializer=list(step.graph.initializer) + constants)
    return checked_model(graph, step)


def block_size(vocabulary):
    """The divisor of `vocabulary` nearest its square root, or None where none lies within a factor of 2 of it."""
    root = vocabulary**0.5
    size = min((divisor for divisor in range(1, vocabulary + 1) if vocabulary % divisor == 0), key=lambda divisor: abs(divisor - root))
    return size if root / 2 <= size <= 2 * root else None


def ranking(vocabulary, opset):
    """The constants and nodes that rank each row's ids past padding and start by logit, best first, as numpy ranks
    them in `zoo.core.decoding.candidates`: `candidates/best_ids` (rows, count) from `logits` and `candidates/count`.

    From BLOCKWISE_VOCABULARY ids, in two stages: each block of ids' best logit, then the ids of the `count` best
    blocks, which hold the `count` best ids. Over 64 rows of 4,000 logits onnxruntime's TopK took twice as long as both.
    Every tensor is named `candidates/...`, which cannot clash with the step's.
    """
    size = block_size(vocabulary) if vocabulary >= BLOCKWISE_VOCABULARY else None
    if size is None:
        constants = [
            constant("candidates/first_candidate", [FIRST_CANDIDATE]),
            constant("candidates/first_id", np.int64(FIRST_CANDIDATE)),
            constant("candidates/vocabulary_end", [np.iinfo(np.int64).max]),
            constant("candidates/vocabulary_axis", [1]),
        ]
        nodes = [
            helper.make_node("Slice", ["logits", "candidates/first_candidate", "candidates/vocabulary_end", "candidates/vocabulary_axis"], ["candidates/logits"]),
            helper.make_node("TopK", ["candidates/logits", "candidates/count"], ["candidates/best_logits", "candidates/best_positions"], axis=1, largest=1, sorted=1),
            helper.make_node("Add", ["candidates/best_positions", "candidates/first_id"], ["candidates/best_ids"]),
        ]
        return constants, nodes
    excluded = np.zeros(vocabulary, "float32")
    excluded[:FIRST_CANDIDATE] = -np.inf  # padding and start are never candidates
    constants = [
        constant("candidates/excluded", excluded),
        constant("candidates/blocks_shape", [0, vocabulary // size, size]),
        constant("candidates/block_axis", [2]),
        constant("candidates/block_width", [size]),
        constant("candidates/block_size", np.int64(size)),
        constant("candidates/flat_rows", [0, -1]),
    ]
    # ReduceMax takes its axes as an attribute before opset 18 and as an input from it.
    if opset < 18:
        block_maxima = helper.make_node("ReduceMax", ["candidates/blocks"], ["candidates/block_maxima"], axes=[2], keepdims=0)
    else:
        block_maxima = helper.make_node("ReduceMax", ["candidates/blocks", "candidates/block_axis"], ["candidates/block_maxima"], keepdims=0)
    nodes = [
        helper.make_node("Add", ["logits", "candidates/excluded"], ["candidates/logits"]),
        helper.make_node("Reshape", ["candidates/logits", "candidates/blocks_shape"], ["candidates/blocks"]),
        block_maxima,
        helper.make_node("TopK", ["candidates/block_maxima", "candidates/count"], ["candidates/best_block_maxima", "candidates/best_blocks"], axis=1, largest=1, sorted=1),
        # The best blocks' logits side by side (rows, count * size), then the best among them.
        helper.make_node("Unsqueeze", ["candidates/best_blocks", "candidates/block_axis"], ["candidates/best_block_column"]),
        helper.make_node("Shape", ["candidates/best_blocks"], ["candidates/best_blocks_shape"]),
        helper.make_node("Concat", ["candidates/best_blocks_shape", "candidates/block_width"], ["candidates/chosen_shape"], axis=0),
        helper.make_node("Expand", ["candidates/best_block_column", "candidates/chosen_shape"], ["candidates/chosen_index"]),
        helper.make_node("GatherElements", ["candidates/blocks", "candidates/chosen_index"], ["candidates/chosen_blocks"], axis=1),
        helper.make_node("Reshape", ["candidates/chosen_blocks", "candidates/flat_rows"], ["candidates/chosen_logits"]),
        helper.make_node("TopK", ["candidates/chosen_logits", "candidates/count"], ["candidates/best_logits", "candidates/best_positions"], axis=1, largest=1, sorted=1),
        # Position p among them is offset p % size in the (p // size)-th best block.
        helper.make_node("Div", ["candidates/best_positions", "candidates/block_size"], ["candidates/best_block_ranks"]),
        helper.make_node("Mod", ["candidates/best_positions", "candidates/block_size"], ["candidates/best_offsets"]),
        helper.make_node("GatherElements", ["candidates/best_blocks", "candidates/best_block_ranks"], ["candidates/blocks_of_best"], axis=1),
        helper.make_node("Mul", ["candidates/blocks_of_best", "candidates/block_size"], ["candidates/block_starts"]),
        helper.make_node("Add", ["candidates/block_starts", "candidates/best_offsets"], ["candidates/best_ids"]),
    ]
    return constants, nodes


def greedy_body(step):
    """The greedy loop's body: the step's nodes with their tensors renamed into the loop, then the greedy choice.

    Body inputs: iteration, condition, and the carried token, state and finished flags. Body outputs: whether any row
    goes on, the carried values, and per step each row's likeliest candidate, its log-probability and (with attention)
    the weights. A row goes on after its end like the others; `greedy_search` pads what it emits after that.
    """
    nodes = renamed_step(step)
    logits = STEP + "logits"
    constants = [constant("allowed", allowed_ids(step)), constant("vocabulary_axis", [1])]
    nodes += [
        # The likeliest candidate and its log-probability: ids and values the same bits as slicing off padding and
        # start would give, in fewer nodes.
        helper.make_node("Add", [logits, "allowed"], ["candidate_logits"]),
        helper.make_node("ArgMax", ["candidate_logits"], ["best_id_column"], axis=1, keepdims=1),
        helper.make_node("LogSoftmax", [logits], ["vocabulary_log_probs"], axis=1),
        helper.make_node("GatherElements", ["vocabulary_log_probs", "best_id_column"], ["best_log_prob_column"], axis=1),
        helper.make_node("Squeeze", ["best_id_column", "vocabulary_axis"], ["best_id"]),
        helper.make_node("Equal", ["best_id", "end_id"], ["ends_now"]),
        helper.make_node("Or", ["finished", "ends_now"], ["finished_after"]),
        # The loop goes on while the least finished flag is 0.
        helper.make_node("Cast", ["finished_after"], ["finished_flags"], to=TensorProto.INT32),
        helper.make_node("ReduceMin", ["finished_flags"], ["all_finished_flag"], keepdims=0),
        helper.make_node("Equal", ["all_finished_flag", "no_flag"], ["any_going"]),
    ]
    carried = [("finished", "finished_after", TensorProto.BOOL, ["batch"])]
    scanned = [("best_id_column", TensorProto.INT64, ["batch", 1]), ("best_log_prob_column", TensorProto.FLOAT, ["batch", 1])]
    return loop_body("greedy_step", step, nodes, constants, "best_id", STEP + "new_state", "batch", carried, scanned)


def allowed_ids(step):
    """0 for each id of the step's vocabulary that may be emitted, -inf for padding and start, which never are."""
    allowed = np.zeros(shape_of(step.graph.output, "logits")[1], "float32")
    allowed[:FIRST_CANDIDATE] = -np.inf
    return allowed


def loop_body(name, step, nodes, constants, token, state_after, rows, carried, scanned):
    """A `Loop` body around the renamed step. Inputs: the iteration, the condition, the step's previous token and
    state, then each of `carried` (input, output, dtype, shape). Outputs: `any_going`, the next token (`token`) and
    state (`state_after`), each carried output, then `scanned` (name, dtype, shape) and, where the step has
    attention, its weights. `rows` names the batch axis."""
    state = shape_of(step.graph.input, "state")
    # int64 ids, as ArgMax and TopK give them: the step's Gather takes them as they come.
    carried = [(STEP + "previous_token", token, TensorProto.INT64, [rows]), (STEP + "state", state_after, TensorProto.FLOAT, state), *carried]
    if has_attention(step):
        scanned = scanned + [(STEP + "attention", TensorProto.FLOAT, shape_of(step.graph.output, "attention"))]
    value = helper.make_tensor_value_info
    inputs = [value("iteration", TensorProto.INT64, []), value("condition", TensorProto.BOOL, []), *(value(name, dtype, shape) for name, _, dtype, shape in carried)]
    outputs = [value("any_going", TensorProto.BOOL, []), *(value(name, dtype, shape) for _, name, dtype, shape in carried), *(value(*spec) for spec in scanned)]
    return helper.make_graph(nodes, name, inputs, outputs, initializer=constants)


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
    scanned = ["step_id_columns", "step_log_prob_columns"] + ["step_attention"] * has_attention(step)
    nodes = [
        helper.make_node("Shape", ["state"], ["state_shape"]),
        helper.make_node("Slice", ["state_shape", "zero", "one", "zero"], ["batch_size"]),
        helper.make_node("ConstantOfShape", ["batch_size"], ["start_tokens"], value=helper.make_tensor("start", TensorProto.INT64, [1], [BOS_ID])),
        helper.make_node("ConstantOfShape", ["batch_size"], ["none_finished"], value=helper.make_tensor("false", TensorProto.BOOL, [1], [False])),
        helper.make_node("Loop", ["steps", "true", "start_tokens", "state", "none_finished"], ["last_token", "last_state", "all_finished", *scanned], body=greedy_body(step)),
        # (steps, batch, 1) to (batch, steps)
        helper.make_node("Squeeze", ["step_id_columns", "column_axis"], ["step_ids"]),
        helper.make_node("Transpose", ["step_ids"], ["candidate_ids"], perm=[1, 0]),
        helper.make_node("Squeeze", ["step_log_prob_columns", "column_axis"], ["step_log_probs"]),
        helper.make_node("Transpose", ["step_log_probs"], ["candidate_log_probs"], perm=[1, 0]),
        # After its end a row emits padding, at no cost: once here rather than at every step.
        helper.make_node("Equal", ["candidate_ids", "end_id"], ["is_end"]),
        helper.make_node("Cast", ["is_end"], ["end_flags"], to=TensorProto.INT32),
        helper.make_node("CumSum", ["end_flags", "steps_axis"], ["ends_before"], exclusive=1),
        helper.make_node("Cast", ["ends_before"], ["after_end"], to=TensorProto.BOOL),
        helper.make_node("Where", ["after_end", "padding_id", "candidate_ids"], ["emitted_ids"]),
        helper.make_node("Cast", ["emitted_ids"], ["ids"], to=TensorProto.INT32),  # int32, as every declared tensor
        helper.make_node("Where", ["after_end", "no_log_prob", "candidate_log_probs"], ["log_probs"]),
    ]
    outputs = [
        helper.make_tensor_value_info("ids", TensorProto.INT32, ["batch", "steps"]),
        helper.make_tensor_value_info("log_probs", TensorProto.FLOAT, ["batch", "steps"]),
    ]
    constants = [
        constant("zero", [0]), constant("one", [1]), constant("true", np.bool_(True)), constant("column_axis", [2]), constant("steps_axis", np.int64(1)),
        constant("end_id", np.int64(EOS_ID)), constant("no_flag", np.int32(0)), constant("padding_id", np.int64(PAD_ID)), constant("no_log_prob", np.float32(0.0)),
    ]
    return search_model("greedy_search", step, nodes, [], outputs, constants, "step_attention" if has_attention(step) else None)


def beam_body(step):
    """The beam loop's body: the step, then every row's candidates scored and the best `width + 1` of each source
    kept in order (ONNX's TopK breaks ties to the lower index: the lower beam, then the lower id, as
    `zoo.core.decoding.beam_search` does).

    Rows are sources x beams, source-major. A finished hypothesis extends only by padding, at no cost, so that a
    source whose hypotheses have all ended keeps them, in order, until every source has ended. So the ids kept tell
    all: padding and the end id (start is never a candidate, and both lie below every other id) mark a hypothesis
    that has ended, and every id but padding adds one to its length.
    """
    nodes = renamed_step(step)
    vocabulary = shape_of(step.graph.output, "logits")[1]
    padding_only = np.full(vocabulary, -np.inf, "float32")
    padding_only[PAD_ID] = 0.0
    constants = [
        constant("allowed", allowed_ids(step)),
        constant("padding_only", padding_only),
        constant("rows_axis", [1]),
        constant("flat_rows", [-1]),
        constant("score_column", [-1, 1]),
        constant("padding_id", np.int64(PAD_ID)),
    ]
    nodes += [
        helper.make_node("LogSoftmax", [STEP + "logits"], ["vocabulary_log_probs"], axis=1),
        helper.make_node("Add", ["vocabulary_log_probs", "allowed"], ["candidate_log_probs"]),
        helper.make_node("Unsqueeze", ["finished", "rows_axis"], ["finished_column"]),
        helper.make_node("Where", ["finished_column", "padding_only", "candidate_log_probs"], ["extensions"]),
        # Each row's total for each next id, then per source its beams' totals side by side: beam * vocabulary + id.
        helper.make_node("Reshape", ["hypothesis_scores", "score_column"], ["row_score_column"]),
        helper.make_node("Add", ["row_score_column", "extensions"], ["row_totals"]),
        helper.make_node("Reshape", ["row_totals", "per_source"], ["totals"]),
        helper.make_node("TopK", ["totals", "width_and_one"], ["best_totals", "best_positions"], axis=1, largest=1, sorted=1),
        helper.make_node("Slice", ["best_totals", "zero_start", "width", "rows_axis"], ["kept_scores"]),
        helper.make_node("Slice", ["best_positions", "zero_start", "width", "rows_axis"], ["kept_grid"]),
        # The kept hypotheses' parents (rows of this step) and ids.
        helper.make_node("Reshape", ["kept_grid", "flat_rows"], ["kept_positions"]),
        helper.make_node("Div", ["kept_positions", "vocabulary"], ["parent_beams"]),
        helper.make_node("Mod", ["kept_positions", "vocabulary"], ["kept_ids"]),
        helper.make_node("Add", ["first_rows", "parent_beams"], ["kept_parents"]),
        helper.make_node("Gather", [STEP + "new_state", "kept_parents"], ["state_after"]),
        helper.make_node("Gather", ["hypothesis_lengths", "kept_parents"], ["parent_lengths"]),
        helper.make_node("Greater", ["kept_ids", "padding_id"], ["grows"]),
        helper.make_node("Cast", ["grows"], ["growth"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["parent_lengths", "growth"], ["lengths_after"]),
        helper.make_node("LessOrEqual", ["kept_ids", "end_id"], ["finished_after"]),
        helper.make_node("ReduceMax", ["kept_ids"], ["highest_id"], keepdims=0),
        helper.make_node("Greater", ["highest_id", "end_id"], ["any_going"]),
    ]
    carried = [
        ("hypothesis_scores", "kept_scores", TensorProto.FLOAT, ["sources", "width"]),
        ("finished", "finished_after", TensorProto.BOOL, ["rows"]),
        ("hypothesis_lengths", "lengths_after", TensorProto.FLOAT, ["rows"]),
    ]
    # The sources' best `width + 1` totals hold the kept scores and the best pruned; the kept positions, the
    # parents and ids, which `beam_search` takes apart once after the loop.
    scanned = [("kept_positions", TensorProto.INT64, ["rows"]), ("best_totals", TensorProto.FLOAT, ["sources", "width_and_one"])]
    return loop_body("beam_step", step, nodes, constants, "kept_ids", "state_after", "rows", carried, scanned)


def beam_search_contract(step_declared):
    """The declared roles of the `beam_search` graph's tensors, from the `decoder_step`'s."""
    tensors = {name: declared for name, declared in step_declared["tensors"].items() if name not in ("previous_token", "logits", "new_state")}
    tensors |= {
        "beam_width": role("beam_width"),
        "max_length": role("length_limit"),
        "parents": role("beam_parents"),
        "tokens": role("tokens", "target"),
        "step_scores": role("step_scores"),
        "runner_up": role("runner_up_scores"),
        "scores": role("hypothesis_scores"),
        "lengths": role("lengths"),
    }
    return {"kind": "beam_search", "tensors": tensors}


def beam_search(step):
    """The `beam_search` graph of an exported `decoder_step` model. Inputs: the step's inputs but the previous token
    (`state`, the encoder's initial state, repeated once per beam, rows source-major; the memory once per source),
    `beam_width` and `max_length` (1,). Outputs, for `zoo.core.decoding` to trace each source's best hypothesis back: per row and
    step the `parents` (the row of the step before that the kept hypothesis extends) and `tokens`, per source and
    step the kept hypotheses' `step_scores` and the best pruned (`runner_up`), and at the end each hypothesis's
    `scores` and `lengths` (tokens emitted, end included); with attention, per row and step the `attention` of
    the row the step read."""
    scanned = ["all_positions", "all_totals"] + ["all_attention"] * has_attention(step)
    nodes = [
        helper.make_node("Cast", ["beam_width"], ["width"], to=TensorProto.INT64),
        helper.make_node("Add", ["width", "one_end"], ["width_and_one"]),
        helper.make_node("Squeeze", ["width"], ["width_id"]),
        helper.make_node("Shape", ["state"], ["state_shape"]),
        helper.make_node("Slice", ["state_shape", "zero_start", "one_end", "zero_start"], ["row_count"]),
        helper.make_node("Squeeze", ["row_count"], ["rows"]),
        helper.make_node("Div", ["row_count", "width"], ["source_count"]),
        helper.make_node("ConstantOfShape", ["row_count"], ["start_tokens"], value=helper.make_tensor("start", TensorProto.INT64, [1], [BOS_ID])),
        helper.make_node("ConstantOfShape", ["row_count"], ["none_finished"], value=helper.make_tensor("false", TensorProto.BOOL, [1], [False])),
        helper.make_node("ConstantOfShape", ["row_count"], ["no_lengths"], value=helper.make_tensor("zero", TensorProto.FLOAT, [1], [0.0])),
        # Every beam starts as the same hypothesis: keep one, the first.
        helper.make_node("Sub", ["width", "one_end"], ["other_beams"]),
        helper.make_node("ConstantOfShape", ["other_beams"], ["pruned"], value=helper.make_tensor("minus_infinity", TensorProto.FLOAT, [1], [-np.inf])),
        helper.make_node("Concat", ["kept", "pruned"], ["first_scores"], axis=0),
        helper.make_node("Concat", ["source_count", "width"], ["score_shape"], axis=0),
        helper.make_node("Expand", ["first_scores", "score_shape"], ["start_scores"]),
        # What the body reads of the batch's shape: each source's beams side by side and each row's source's first
        # row. After the loop: the split of a source's `width + 1` best into the kept and the best pruned.
        helper.make_node("Concat", ["source_count", "minus_one"], ["per_source"], axis=0),
        helper.make_node("Range", ["zero_id", "rows", "width_id"], ["source_rows"]),
        helper.make_node("Unsqueeze", ["source_rows", "one_end"], ["source_row_column"]),
        helper.make_node("Expand", ["source_row_column", "score_shape"], ["first_row_grid"]),
        helper.make_node("Reshape", ["first_row_grid", "minus_one"], ["first_rows"]),
        helper.make_node("Concat", ["width", "one_end"], ["kept_and_pruned"], axis=0),
        helper.make_node(
            "Loop", ["steps", "true", "start_tokens", "state", "start_scores", "none_finished", "no_lengths"],
            ["last_tokens", "last_state", "scores", "all_finished", "lengths", *scanned], body=beam_body(step),
        ),
        # Each kept position is its parent's beam * vocabulary + its id.
        helper.make_node("Div", ["all_positions", "vocabulary"], ["all_parent_beams"]),
        helper.make_node("Add", ["all_parent_beams", "first_rows"], ["all_parents"]),
        helper.make_node("Transpose", ["all_parents"], ["parents_int64"], perm=[1, 0]),
        helper.make_node("Cast", ["parents_int64"], ["parents"], to=TensorProto.INT32),  # int32, as every declared tensor
        helper.make_node("Mod", ["all_positions", "vocabulary"], ["all_ids"]),
        helper.make_node("Transpose", ["all_ids"], ["ids_int64"], perm=[1, 0]),
        helper.make_node("Cast", ["ids_int64"], ["tokens"], to=TensorProto.INT32),
        helper.make_node("Split", ["all_totals", "kept_and_pruned"], ["all_scores", "all_runner_up"], axis=2),
        helper.make_node("Transpose", ["all_scores"], ["step_scores"], perm=[1, 0, 2]),
        helper.make_node("Squeeze", ["all_runner_up", "runner_up_axis"], ["runner_up_steps"]),
        helper.make_node("Transpose", ["runner_up_steps"], ["runner_up"], perm=[1, 0]),
    ]
    outputs = [
        helper.make_tensor_value_info("parents", TensorProto.INT32, ["batch", "steps"]),
        helper.make_tensor_value_info("tokens", TensorProto.INT32, ["batch", "steps"]),
        helper.make_tensor_value_info("step_scores", TensorProto.FLOAT, ["batch", "steps", "beams"]),
        helper.make_tensor_value_info("runner_up", TensorProto.FLOAT, ["batch", "steps"]),
        helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", "beams"]),
        helper.make_tensor_value_info("lengths", TensorProto.FLOAT, ["batch"]),
    ]
    constants = [
        constant("zero_start", [0]), constant("one_end", [1]), constant("minus_one", [-1]), constant("runner_up_axis", [2]),
        constant("zero_id", np.int64(0)), constant("kept", np.zeros(1, "float32")), constant("true", np.bool_(True)),
        constant("vocabulary", np.int64(shape_of(step.graph.output, "logits")[1])), constant("end_id", np.int64(EOS_ID)),
    ]
    width = helper.make_tensor_value_info("beam_width", TensorProto.INT32, [1])
    return search_model("beam_search", step, nodes, [width], outputs, constants, "all_attention" if has_attention(step) else None)


def search_model(name, step, nodes, inputs, outputs, constants, scanned_attention):
    """The checked model of a search: the step's inputs but the previous token, then `inputs` and `max_length`; the
    step's weights beside `constants`; `nodes` after `max_length` made the loop's count (`steps`); `outputs`, and
    `attention` (batch, steps, positions) from `scanned_attention` (steps, batch, positions) where the step has it."""
    memory = [value for value in step.graph.input if value.name not in STEP_INPUTS]
    state = next(value for value in step.graph.input if value.name == "state")
    count = [
        helper.make_node("Squeeze", ["max_length"], ["max_length_scalar"]),
        helper.make_node("Cast", ["max_length_scalar"], ["steps"], to=TensorProto.INT64),  # int32 in, as every declared tensor
    ]
    if scanned_attention:
        nodes = nodes + [helper.make_node("Transpose", [scanned_attention], ["attention"], perm=[1, 0, 2])]
        positions = shape_of(step.graph.output, "attention")[1]
        outputs = outputs + [helper.make_tensor_value_info("attention", TensorProto.FLOAT, ["batch", "steps", positions])]
    inputs = [state, *memory, *inputs, helper.make_tensor_value_info("max_length", TensorProto.INT32, [1])]
    graph = helper.make_graph(hoisted(count + nodes), name, inputs, outputs, initializer=list(step.graph.initializer) + constants)
    return checked_model(graph, step)


def hoisted(nodes):
    """`nodes` with the nodes of each `Loop` body that read nothing the body computes moved before the `Loop`:
    onnxruntime would run them at every step (the attention's grouping of the memory, the mask's comparison)."""
    result = []
    for node in nodes:
        if node.op_type == "Loop":
            body = next(attribute.g for attribute in node.attribute if attribute.name == "body")
            inner = {value.name for value in [*body.input, *body.initializer]} | {name for inside in body.node for name in inside.output}
            results = {value.name for value in body.output}
            kept = []
            for inside in body.node:
                if inner.isdisjoint(inside.input) and results.isdisjoint(inside.output):
                    result.append(inside)
                    inner -= set(inside.output)
                else:
                    kept.append(inside)
            body.ClearField("node")
            body.node.extend(kept)
        result.append(node)
    return result


def checked_model(graph, step):
    """The checked model of a graph built around the step, in the step's opsets."""
    model = helper.make_model_gen_version(graph, opset_imports=step.opset_import, producer_name="attention-zoo")
    onnx.checker.check_model(model, full_check=True)
    return model
