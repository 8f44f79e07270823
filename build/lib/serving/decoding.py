"""Decoding loops in numpy over a `run(graph, inputs) -> outputs` function.

The same loop drives onnxruntime sessions and Keras models, so both decode identically.
"""
import numpy as np


def sample_next(logits, temperature, rng):
    """One id per row: argmax at temperature 0, else a draw from softmax(logits / temperature)."""
    if temperature == 0:
        return logits.argmax(axis=-1).astype("int32")
    scaled = logits.astype("float64") / temperature
    scaled -= scaled.max(axis=-1, keepdims=True)
    probabilities = np.exp(scaled)
    probabilities /= probabilities.sum(axis=-1, keepdims=True)
    return np.array([rng.choice(len(row), p=row) for row in probabilities], dtype="int32")


def sample_text(run, tokenizer, prompt, length, temperature, rng):
    """Reads the prompt with the `sequence` graph, then samples `length` characters with the `step` graph."""
    outputs = run("sequence", {"tokens": tokenizer.encode(prompt)[None]})
    logits, state = outputs["logits"][:, -1], outputs["new_state"]
    generated = []
    for _ in range(length):
        token = sample_next(logits, temperature, rng)
        generated.append(int(token[0]))
        outputs = run("step", {"token": token, "state": state})
        logits, state = outputs["logits"], outputs["new_state"]
    return tokenizer.decode(generated)
