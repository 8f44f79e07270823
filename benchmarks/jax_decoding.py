"""Decoding as one XLA program: the fastest Keras-native reference the benchmarks compare onnxruntime with.

The numpy loop of `zoo.core.decoding.beam_search` calls each graph once per step from Python; a Keras
user tuning for speed would instead jit the encoder, the decoder step and the whole search, one
`jax.lax.while_loop` over steps. `jitted_decoding` does that and searches exactly as `beam_search` does
(same candidates, ties, finished hypotheses and length normalisation), in float32 where it uses float64.
It needs KERAS_BACKEND=jax: the graphs are traced as JAX functions.
"""
import json
import sys
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.keras_timing import decode_all, decoding_cases, load_inputs, timed
from zoo.core.decoding import rows_of
from zoo.core.errors import ZooError
from zoo.core.manifest import read_manifest
from zoo.core.tokenizers import BOS_ID, EOS_ID, PAD_ID
from zoo.presets import Preset

# What the loop carries into the decoder step; its other inputs are the encoder outputs of the same names.
LOOP_INPUTS = ("previous_token", "state")


def stateless(graph):
    """`graph` as a pure function of its variables and inputs, which `jax.jit` can trace."""

    def call(variables, inputs):
        return graph.stateless_call(*variables, inputs)[0]

    return call


def variable_values(graph):
    # Jit arguments rather than closed-over constants: XLA would otherwise embed every weight in the program.
    return [variable.value for variable in graph.trainable_variables], [variable.value for variable in graph.non_trainable_variables]


def best_candidates(totals, width):
    """Values and column indices of the `width` largest totals of each row, best first, equal values by lower index."""
    if width == 1:
        index = jnp.argmax(totals, axis=-1, keepdims=True)
        return jnp.take_along_axis(totals, index, axis=-1), index
    return jax.lax.top_k(totals, width)


def jitted_decoding(model, max_length, beam_width=1, length_penalty=1.0):
    """`decode(source) -> [{"ids", "score"}]`, the ids and scores of `beam_search(run, source, max_length,
    beam_width, length_penalty)` for a batch of encoder inputs {name: array}, compiled once per input shape."""
    graphs = model.deployment_graphs()
    encoder_graph, step_graph = graphs["encoder"], graphs["decoder_step"]
    encoder, step = stateless(encoder_graph), stateless(step_graph)
    memory_names = [tensor.name for tensor in step_graph.inputs if tensor.name not in LOOP_INPUTS]
    width = beam_width

    @jax.jit
    def search(encoder_variables, step_variables, source):
        batch = rows_of(source)
        encoded = encoder(encoder_variables, source)
        memory = {name: encoded[name] for name in memory_names}  # each source's once: the step's rows are its beams
        state = jnp.repeat(encoded["initial_state"], width, axis=0)

        def extend(hypotheses):
            t, token, state, scores, lengths, finished, history = hypotheses
            outputs = step(step_variables, {"previous_token": token, "state": state, **memory})
            never_generated = jnp.array([PAD_ID, BOS_ID])  # padding only follows the end
            log_probs = jax.nn.log_softmax(outputs["logits"]).at[:, never_generated].set(-jnp.inf)
            vocab = log_probs.shape[-1]
            only_padding = jnp.where(jnp.arange(vocab) == PAD_ID, 0.0, -jnp.inf)  # a finished hypothesis only pads, at no cost
            log_probs = jnp.where(finished[:, None], only_padding, log_probs)
            scores, best = best_candidates((scores.reshape(-1, 1) + log_probs).reshape(batch, width * vocab), width)
            rows = (jnp.arange(batch)[:, None] * width + best // vocab).ravel()
            token = (best % vocab).ravel()
            lengths = lengths[rows] + ~finished[rows]
            finished = finished[rows] | (token == EOS_ID)
            return t + 1, token, outputs["new_state"][rows], scores, lengths, finished, history[rows].at[:, t].set(token)

        def searching(hypotheses):
            t, *_, finished, _ = hypotheses
            return (t < max_length) & ~finished.all()

        start = (
            0,
            jnp.full(batch * width, BOS_ID, dtype="int32"),
            state,
            jnp.zeros((batch, width)).at[:, 1:].set(-jnp.inf),  # every beam starts as the same hypothesis: keep one
            jnp.zeros(batch * width, dtype="int32"),
            jnp.zeros(batch * width, dtype=bool),
            jnp.full((batch * width, max_length), PAD_ID, dtype="int32"),
        )
        _, _, _, scores, lengths, _, history = jax.lax.while_loop(searching, extend, start)
        normalised = scores / jnp.maximum(lengths.reshape(batch, width), 1) ** length_penalty
        best = jnp.argmax(normalised, axis=1)
        sentences = jnp.arange(batch)
        return history.reshape(batch, width, max_length)[sentences, best], normalised[sentences, best]

    def decode(source):
        ids, scores = search(variable_values(encoder_graph), variable_values(step_graph), source)
        ids, scores = np.asarray(ids), np.asarray(scores)
        return [{"ids": [int(i) for i in row if i not in (PAD_ID, EOS_ID)], "score": float(score)} for row, score in zip(ids, scores)]

    return decode


def main():
    """`python -m benchmarks.jax_decoding ARTIFACT INPUTS.npz`: compiles the jitted decode of every decoding case of
    `benchmarks.keras_timing.decoding_cases`, answers with one JSON line of each case's compile seconds and ids, then
    times one run of case K for each line K it reads, answering with the seconds. The benchmark runs it beside
    onnxruntime, so that each run of JAX follows one of every onnxruntime runner under the same state of the machine."""
    answers, sys.stdout = sys.stdout, sys.stderr  # anything else printed must not be read as an answer
    artifact, inputs = sys.argv[1:]
    try:
        model = Preset(Path(artifact) / "preset").load_model()
    except ZooError as error:
        sys.exit(f"error: {error}")
    max_length = read_manifest(artifact)["max_target_length"]
    runs, cases = [], []
    for width, _, batches in decoding_cases(load_inputs(inputs)[1]):
        decode = jitted_decoding(model, max_length, width)
        compile_seconds = timed(lambda: decode(batches[0]))() - timed(lambda: decode(batches[0]))()  # every batch has the same shape: one compilation
        runs.append(timed(partial(decode_all, decode, batches)))
        cases.append({"compile_s": compile_seconds, "ids": [result["ids"] for result in decode_all(decode, batches)]})
    print(json.dumps(cases), file=answers, flush=True)
    for line in sys.stdin:
        print(runs[int(line)](), file=answers, flush=True)


if __name__ == "__main__":
    main()
