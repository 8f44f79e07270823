from functools import cache

import keras
import numpy as np
import onnx
import onnxruntime
import pytest

from export.parity import ATOL, ATTENTION_ROW_SUM_TOLERANCE, RTOL
from export.recurrent_graphs import AXIS_NAMES, native_graph
from zoo.core.audio import padded_frames
from zoo.models import AttentionSeq2Seq, ListenAttendSpell, Seq2Seq, ShowAttendTell, VanillaRNN

VOCAB = 12
SIZES = {"embedding_dim": 8, "encoder_units": 6, "decoder_units": 10}
# Name: the graph `native_graph` replaces, and the model.
MODELS = {
    "language_model": ("sequence", lambda: VanillaRNN(VOCAB, embedding_dim=8, hidden_dim=16, num_layers=2)),
    "classifier": ("sequence", lambda: VanillaRNN(VOCAB, embedding_dim=8, hidden_dim=16, num_layers=2, num_classes=4)),
    "seq2seq_bidirectional_gru": ("encoder", lambda: Seq2Seq(VOCAB, 10, **SIZES)),
    "seq2seq_lstm": ("encoder", lambda: Seq2Seq(VOCAB, 10, **SIZES, encoder_cell="lstm", bidirectional=False)),
    "attention_bidirectional_gru": ("encoder", lambda: AttentionSeq2Seq(VOCAB, 10, **SIZES, attention_units=5)),
    "attention_lstm": ("encoder", lambda: AttentionSeq2Seq(VOCAB, 10, **SIZES, encoder_cell="lstm", bidirectional=False, attention_units=5)),
    "listener": ("encoder", lambda: ListenAttendSpell(10, mel_bins=4, pyramid_levels=2, **SIZES, attention_units=5)),
    "seq2seq_step": ("decoder_step", lambda: Seq2Seq(VOCAB, 10, **SIZES)),
    "attention_step": ("decoder_step", lambda: AttentionSeq2Seq(VOCAB, 10, **SIZES, attention_units=5)),
    "attention_step_tied": ("decoder_step", lambda: AttentionSeq2Seq(VOCAB, 10, **SIZES, attention_units=5, tie_embeddings=True)),
    "captioner_step": ("decoder_step", lambda: ShowAttendTell(VOCAB, channels=6, embedding_dim=8, decoder_units=10, attention_units=5)),
}
ATTENTION_STEPS = ("attention_step", "attention_step_tied", "captioner_step")
# Row lengths of each batch, right-padded to the longest: one token alone, and a length far from any other.
BATCHES = {"one_token": (1,), "padded": (37, 1, 12, 30)}


@cache
def random_model(name):
    """The model and the Keras graph `native_graph` replaces, every weight drawn at random: Keras starts biases
    at zero, which would hide a misplaced one. Only this graph is built: on jax, initializing the
    other graph's weights compiles for seconds.

    The weights are small enough for the recurrences to contract: at 0.5, fp32 rounding grows over 37 steps to
    about 2e-5, Keras-tensorflow against Keras-torch as much as ONNX against Keras.
    """
    keras.utils.set_random_seed(0)
    graph_name, build = MODELS[name]
    model = build()
    graph = getattr(model, f"{graph_name}_graph")()
    rng = np.random.default_rng(0)
    for variable in model.weights:
        variable.assign(rng.normal(0, 0.2, variable.shape).astype("float32"))
    return model, graph


def padded_ids(lengths):
    ids = np.random.default_rng(len(lengths)).integers(1, VOCAB, (len(lengths), max(lengths))).astype("int32")
    for row, length in zip(ids, lengths):
        row[length:] = 0
    return ids


def random_frames(model, lengths):
    """Frames of one utterance per length (in frames), padded with zero frames to the listener's multiple."""
    rng = np.random.default_rng(len(lengths))
    return padded_frames([rng.normal(0, 1, (length, model.mel_bins)).astype("float32") for length in lengths], model.frame_multiple)


def graph_inputs(model, graph, lengths):
    """Inputs for one row per length: right-padded ids, or for a decoder step a token, a state and memory of that
    many source positions (the captioner's are fixed) with the padded ones masked out but not zeroed."""
    if graph.name != "decoder_step":
        (input_name,) = graph.input
        return {input_name: random_frames(model, lengths) if input_name == "frames" else padded_ids(lengths)}
    rng = np.random.default_rng(len(lengths))
    batch, time = len(lengths), max(lengths)
    inputs = {
        "previous_token": rng.integers(0, model.vocabularies()["target"], batch).astype("int32"),
        "state": rng.uniform(-1, 1, (batch, model.state_size)).astype("float32"),
        **{name: rng.uniform(-1, 1, (batch, *(time if size is None else size for size in shape))).astype("float32") for name, shape in model.memory_inputs().items()},
    }
    if "source_mask" in inputs:
        inputs["source_mask"] = (np.arange(time) < np.array(lengths)[:, None]).astype("float32")
    return inputs


def native_outputs(model, graph, inputs):
    session = onnxruntime.InferenceSession(native_graph(model, graph.name, 17).SerializeToString())
    return dict(zip([output.name for output in session.get_outputs()], session.run(None, inputs)))


def onnx_specs(values):
    return {value.name: (value.type.tensor_type.elem_type, [dim.dim_param or dim.dim_value for dim in value.type.tensor_type.shape.dim]) for value in values}


def keras_specs(tensors, once_per_source=()):
    """Each tensor's ONNX type and axes; those `once_per_source` (a decoder step's memory) start with `sources`."""
    axes = lambda name: ("sources", *AXIS_NAMES[1:]) if name in once_per_source else AXIS_NAMES
    return {
        name: (onnx.helper.np_dtype_to_tensor_dtype(np.dtype(tensor.dtype)), [axes(name)[axis] if size is None else size for axis, size in enumerate(tensor.shape)])
        for name, tensor in tensors.items()
    }


@pytest.mark.parametrize("name", MODELS)
def test_inputs_and_outputs_are_the_keras_graphs(name):
    model, graph = random_model(name)
    native = native_graph(model, graph.name, 17).graph
    assert onnx_specs(native.input) == keras_specs(graph.input, model.memory_inputs() if graph.name == "decoder_step" else ())
    assert onnx_specs(native.output) == keras_specs(graph.output)
    assert [output.name for output in native.output] == sorted(graph.output)  # the order tf2onnx writes them in


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("name", MODELS)
def test_outputs_match_keras_at_every_position(name, batch):
    """Padded positions included: Keras zeroes them in a Bidirectional layer but repeats the last output in a plain one."""
    model, graph = random_model(name)
    inputs = graph_inputs(model, graph, BATCHES[batch])
    expected, actual = graph.predict_on_batch(inputs), native_outputs(model, graph, inputs)
    assert actual.keys() == expected.keys()
    for output, value in expected.items():
        np.testing.assert_allclose(actual[output], value, rtol=RTOL, atol=ATOL, err_msg=output)


@pytest.mark.parametrize("name", ATTENTION_STEPS)
def test_attention_weights_sum_to_one_and_are_zero_on_padding(name):
    """What the parity gate checks of every attention row: a tolerance on the sum, none on padding."""
    model, graph = random_model(name)
    inputs = graph_inputs(model, graph, BATCHES["padded"])
    attention = native_outputs(model, graph, inputs)["attention"]
    np.testing.assert_allclose(attention.sum(axis=-1), 1, rtol=0, atol=ATTENTION_ROW_SUM_TOLERANCE)
    if "source_mask" in inputs:
        assert np.all(attention[inputs["source_mask"] == 0] == 0)


@pytest.mark.parametrize("name", ATTENTION_STEPS)
def test_a_step_reads_each_sources_memory_once_for_all_its_rows(name):
    """Three hypotheses per source, source-major, over each source's memory given once: the outputs of the same
    step given a copy of the memory per row, on onnxruntime and on Keras."""
    model, graph = random_model(name)
    inputs = graph_inputs(model, graph, BATCHES["padded"])
    memory = {name: value for name, value in inputs.items() if name in model.memory_inputs()}
    rng, count = np.random.default_rng(3), 3 * len(BATCHES["padded"])
    rows = {
        "previous_token": rng.integers(0, model.vocabularies()["target"], count).astype("int32"),
        "state": rng.uniform(-1, 1, (count, model.state_size)).astype("float32"),
    }
    expected = graph.predict_on_batch(rows | {name: np.repeat(value, 3, axis=0) for name, value in memory.items()})
    for outputs in (native_outputs(model, graph, rows | memory), graph.predict_on_batch(rows | memory)):
        for output, value in expected.items():
            np.testing.assert_allclose(outputs[output], value, rtol=RTOL, atol=ATOL, err_msg=output)


def test_other_graphs_have_no_native_version():
    """Nothing is built here: a graph without a native version never reads the weights."""
    assert native_graph(VanillaRNN(VOCAB), "step", 17) is None
    assert native_graph(ShowAttendTell(VOCAB), "encoder", 17) is None
