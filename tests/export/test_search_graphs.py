import keras
import numpy as np
import onnxruntime
import pytest
from onnx import TensorProto, helper

from export.recurrent_graphs import native_graph
from export.search_graphs import BLOCKWISE_VOCABULARY, beam_search_contract, block_size, candidate_step, candidate_step_contract, greedy_search, greedy_search_contract, ranking
from export.search_graphs import beam_search as beam_search_graph
from tests.export.test_recurrent_graphs import ATTENTION_STEPS, BATCHES, graph_inputs, random_model
from zoo.core.contract import EXPORTED_KINDS, SEARCH_KINDS, Graphs, role
from zoo.core.decoding import FIRST_CANDIDATE, Without, beam_search, candidates, graph_beam_search, graph_search
from zoo.core.tokenizers import EOS_ID

STEPS = ("seq2seq_step", *ATTENTION_STEPS)
MAX_LENGTH = 9
# Added to the end id's logit, so that rows end at different steps: with random weights the end id is as rare as any other.
END_BIAS = 0.2
STEP_ROLES = {
    "previous_token": role("tokens", "target"), "state": role("state"), "encoder_outputs": role("memory"), "annotations": role("memory"),
    "projected_keys": role("keys"), "source_mask": role("padding_mask"), "logits": role("logits", "target"), "new_state": role("state"),
    "attention": role("attention"),
}


class Searches:
    """A runner over a random model's decoder step and the graphs export builds around it; its `encoder` hands out
    a fixed memory and initial state, one row per source."""

    def __init__(self, model, inputs):
        step = ending_step(model)
        self.encoded = {"initial_state" if name == "state" else name: value for name, value in inputs.items() if name != "previous_token"}
        graphs = {
            "decoder_step": (step, {"kind": "decoder_step", "tensors": STEP_ROLES}),
            "candidate_step": (candidate_step(step), candidate_step_contract({"tensors": STEP_ROLES})),
            "greedy_search": (greedy_search(step), greedy_search_contract({"tensors": STEP_ROLES})),
            "beam_search": (beam_search_graph(step), beam_search_contract({"tensors": STEP_ROLES})),
        }
        self.sessions = {name: onnxruntime.InferenceSession(proto.SerializeToString()) for name, (proto, _) in graphs.items()}
        specs = {name: self.spec(self.sessions[name], declared) for name, (_, declared) in graphs.items()}
        encoder_outputs = [{"name": name, **STEP_ROLES["state" if name == "initial_state" else name]} for name in self.encoded]
        specs["encoder"] = {"kind": "encoder", "inputs": [{"name": "source", "role": "tokens"}], "outputs": encoder_outputs}
        self.graphs = Graphs(specs)

    @staticmethod
    def spec(session, declared):
        tensors = lambda values: [{"name": value.name, **declared["tensors"][value.name]} for value in values]
        return {"kind": declared["kind"], "inputs": tensors(session.get_inputs()), "outputs": tensors(session.get_outputs())}

    def run(self, graph, inputs):
        if graph == "encoder":
            return self.encoded
        session = self.sessions[graph]
        return dict(zip([output.name for output in session.get_outputs()], session.run(None, inputs)))


def ending_step(model):
    """The model's decoder step with END_BIAS on the end id's logit."""
    bias = model.output_projection.bias
    original = keras.ops.convert_to_numpy(bias)
    try:
        bias.assign(original + END_BIAS * (np.arange(len(original)) == EOS_ID))
        return native_graph(model, "decoder_step", 17)
    finally:
        bias.assign(original)


def assert_same_results(expected, actual):
    for a, b in zip(expected, actual, strict=True):
        assert a["ids"] == b["ids"]
        assert abs(a["score"] - b["score"]) < 1e-5
        if a["attention"] is None:
            assert b["attention"] is None
        else:
            np.testing.assert_allclose(a["attention"], b["attention"], atol=1e-6)


@pytest.mark.parametrize("name", STEPS)
@pytest.mark.parametrize("batch", BATCHES)
def test_search_graphs_decode_as_the_step_called_once_per_token(name, batch):
    model, graph = random_model(name)
    runner = Searches(model, graph_inputs(model, graph, BATCHES[batch]))
    source = np.ones((len(BATCHES[batch]), 1), "int32")  # the encoder ignores it
    assert_same_results(beam_search(Without(runner, *SEARCH_KINDS), source, MAX_LENGTH), graph_search(runner, source, MAX_LENGTH))
    for width in (1, 3):
        expected = beam_search(Without(runner, *SEARCH_KINDS), source, MAX_LENGTH, width, trace=True)
        actual = graph_beam_search(runner, source, MAX_LENGTH, width, trace=True)
        assert_same_results(expected, actual)
        for a, b in zip(expected, actual):
            np.testing.assert_array_equal(a["trace"]["beams"], b["trace"]["beams"])
            np.testing.assert_allclose(a["trace"]["beam_scores"], b["trace"]["beam_scores"], atol=1e-5)
            np.testing.assert_allclose(a["trace"]["runner_up"], b["trace"]["runner_up"], atol=1e-5)


@pytest.mark.parametrize("name", STEPS)
def test_the_candidate_step_proposes_the_likeliest_ids_as_numpy_ranks_the_logits(name):
    model, graph = random_model(name)
    inputs = graph_inputs(model, graph, BATCHES["padded"])
    runner = Searches(model, inputs)
    logits = runner.run("decoder_step", inputs)["logits"]
    for count in (1, 4):
        proposed = runner.run("candidate_step", inputs | {"candidate_count": np.array([count], "int32")})
        ids, log_probs = candidates(logits, np.zeros(len(logits), bool), count)
        ranked = np.argsort(-log_probs, axis=1, kind="stable")  # numpy's are in no order; the graph's best first
        np.testing.assert_array_equal(proposed["candidate_ids"], np.take_along_axis(ids, ranked, axis=1))
        np.testing.assert_allclose(proposed["candidate_log_probs"], np.take_along_axis(log_probs, ranked, axis=1), atol=1e-5)
        assert (proposed["candidate_ids"] >= FIRST_CANDIDATE).all()
    source = np.ones((len(logits), 1), "int32")
    for width in (1, 3):
        expected = beam_search(Without(runner, *EXPORTED_KINDS), source, MAX_LENGTH, width, trace=True)
        actual = beam_search(Without(runner, *SEARCH_KINDS), source, MAX_LENGTH, width, trace=True)
        assert_same_results(expected, actual)
        for a, b in zip(expected, actual):
            np.testing.assert_array_equal(a["trace"]["beams"], b["trace"]["beams"])


@pytest.mark.parametrize("vocabulary", [413, 4000])
@pytest.mark.parametrize("opset", [14, 18])
def test_ranking_finds_the_likeliest_ids_in_one_stage_or_by_blocks(vocabulary, opset):
    assert (block_size(vocabulary) is not None) == (vocabulary >= BLOCKWISE_VOCABULARY)  # 4,000 ranks by blocks of 50
    rng = np.random.default_rng(vocabulary)
    logits = rng.normal(size=(16, vocabulary)).astype("float32")
    logits[0, :FIRST_CANDIDATE] = 100.0  # padding and start are never candidates, however likely
    logits[1, 2:7] = 50.0 + np.arange(5)  # the best ids side by side, in one block
    constants, nodes = ranking(vocabulary, opset)
    graph = helper.make_graph(
        [helper.make_node("Cast", ["count"], ["candidates/count"], to=TensorProto.INT64), *nodes], "ranking",
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["rows", vocabulary]), helper.make_tensor_value_info("count", TensorProto.INT32, [1])],
        [helper.make_tensor_value_info("candidates/best_ids", TensorProto.INT64, ["rows", "count"])], initializer=constants,
    )
    session = onnxruntime.InferenceSession(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]).SerializeToString())
    for count in (1, 5):
        (best,) = session.run(None, {"logits": logits, "count": np.array([count], "int32")})
        ids, log_probs = candidates(logits, np.zeros(len(logits), bool), count)
        np.testing.assert_array_equal(best, np.take_along_axis(ids, np.argsort(-log_probs, axis=1, kind="stable"), axis=1))
