import keras
import numpy as np
import onnxruntime
import pytest

from export.recurrent_graphs import native_graph
from export.search_graphs import greedy_search
from tests.export.test_recurrent_graphs import ATTENTION_STEPS, BATCHES, graph_inputs, random_model
from zoo.core.decoding import FIRST_CANDIDATE
from zoo.core.tokenizers import BOS_ID, EOS_ID, PAD_ID

STEPS = ("seq2seq_step", *ATTENTION_STEPS)
MAX_LENGTH = 9
END_BIAS = 0.2


def step_by_step(step, inputs):
    """Greedy ids (rows, steps), log-probabilities and attention from calling the step once per token, every row to
    its end."""
    memory = {name: value for name, value in inputs.items() if name not in ("previous_token", "state")}
    token, state = np.full(len(inputs["state"]), BOS_ID, "int32"), inputs["state"]
    ids, log_probs, attention, finished = [], [], [], np.zeros(len(token), bool)
    for _ in range(MAX_LENGTH):
        outputs = dict(zip([output.name for output in step.get_outputs()], step.run(None, {"previous_token": token, "state": state, **memory})))
        logits = outputs["logits"].astype("float64")
        token = (logits[:, FIRST_CANDIDATE:].argmax(axis=1) + FIRST_CANDIDATE).astype("int32")
        normalised = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        ids.append(np.where(finished, PAD_ID, token))
        log_probs.append(np.where(finished, 0.0, normalised[np.arange(len(token)), token]))
        attention.append(outputs.get("attention"))
        finished |= token == EOS_ID
        state = outputs["new_state"]
        if finished.all():
            break
    return np.stack(ids, 1), np.stack(log_probs, 1), attention


def ending_step(model):
    """The model's decoder step with a larger end logit, so that rows end at different steps (with random weights,
    the end id is otherwise as rare as any other)."""
    bias = model.output_projection.bias
    original = keras.ops.convert_to_numpy(bias)
    try:
        bias.assign(original + END_BIAS * (np.arange(len(original)) == EOS_ID))
        return native_graph(model, "decoder_step", 17)
    finally:
        bias.assign(original)


@pytest.mark.parametrize("name", STEPS)
@pytest.mark.parametrize("batch", BATCHES)
def test_greedy_search_graph_emits_the_ids_of_the_step_called_once_per_token(name, batch):
    model, graph = random_model(name)
    step = ending_step(model)
    inputs = graph_inputs(model, graph, BATCHES[batch])
    expected_ids, expected_log_probs, expected_attention = step_by_step(onnxruntime.InferenceSession(step.SerializeToString()), inputs)
    session = onnxruntime.InferenceSession(greedy_search(step).SerializeToString())
    feed = {value.name: inputs[value.name] for value in session.get_inputs() if value.name != "max_length"} | {"max_length": np.array([MAX_LENGTH], "int32")}
    outputs = dict(zip([output.name for output in session.get_outputs()], session.run(None, feed)))
    np.testing.assert_array_equal(outputs["ids"], expected_ids)
    np.testing.assert_allclose(outputs["log_probs"], expected_log_probs, atol=1e-5)
    if name in ATTENTION_STEPS:
        np.testing.assert_allclose(outputs["attention"], np.stack(expected_attention, 1), atol=1e-6)
    else:
        assert "attention" not in outputs
