"""Decoding loops in numpy over a `run(graph, inputs) -> outputs` function.

The same loop drives onnxruntime sessions and Keras models, so both decode identically.
"""
import numpy as np

from zoo.core.tokenizers import PAD_ID, WordTokenizer, pad_batch

BOS_ID, EOS_ID = WordTokenizer.BOS_ID, WordTokenizer.EOS_ID


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


def log_softmax(logits):
    shifted = logits.astype("float64") - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def encode_source(run, source, repeats=1):
    """The decoder's initial state and what it attends over, for `source` (token ids of a sentence or
    pixels of an image: the encoder takes `source` or `image`, and runners drop the input a graph lacks),
    each row repeated `repeats` times (one copy per beam)."""
    encoded = {name: np.repeat(value, repeats, axis=0) for name, value in run("encoder", {"source": source, "image": source}).items()}
    return encoded.pop("initial_state"), encoded


def top_candidates(totals, count):
    """Column indices of the `count` largest values of each row, best first, equal values by lower index.

    A partial sort: fully sorting (batch, beams x vocabulary) totals took most of the decoding time.
    Which of several values exactly equal to the `count`-th is taken is left to `argpartition`.
    """
    candidates = np.argpartition(-totals, count - 1, axis=1)[:, :count]
    order = np.lexsort((candidates, -np.take_along_axis(totals, candidates, axis=1)), axis=-1)
    return np.take_along_axis(candidates, order, axis=1)


def beam_search(run, source, max_length, beam_width=1, length_penalty=1.0, trace=False):
    """Translates (or captions) a batch of sources; beam width 1 is greedy decoding.

    Returns, per source row: target ids (up to, not including, the end id), the length-normalised
    log-probability `sum log p / length ** length_penalty`, and the attention matrix (target x source positions)
    where the model has attention, else None. Ties go to the lower beam, then the lower id.

    With `trace`, each result also holds the search itself, step by step (for comparing two runtimes'
    searches): `beams` a hash of each kept hypothesis's ids (steps, width), `beam_scores` their scores, and
    `runner_up` the best score pruned (steps,).
    """
    batch, width = len(source), beam_width
    state, memory = encode_source(run, source, width)
    scores = np.zeros((batch, width))
    scores[:, 1:] = -np.inf  # every beam starts as the same hypothesis: keep one
    token = np.full(batch * width, BOS_ID, dtype="int32")
    finished = np.zeros(batch * width, dtype=bool)
    lengths = np.zeros(batch * width)
    history = np.zeros((batch * width, 0), dtype="int32")
    attention_history = None
    hypotheses, steps = np.zeros(batch * width, dtype="int64"), []
    for _ in range(max_length):
        outputs = run("decoder_step", {"previous_token": token, "state": state, **memory})
        log_probs = log_softmax(outputs["logits"])
        log_probs[:, [PAD_ID, BOS_ID]] = -np.inf  # never generated: padding only follows the end
        log_probs[finished] = -np.inf
        log_probs[finished, PAD_ID] = 0.0  # a finished hypothesis only pads, at no cost
        vocab = log_probs.shape[-1]
        totals = (scores.reshape(-1, 1) + log_probs).reshape(batch, width * vocab)
        ranking = top_candidates(totals, width + 1)  # the best pruned one too, for `trace`
        best = ranking[:, :width]
        rows = (np.arange(batch)[:, None] * width + best // vocab).ravel()
        token = (best % vocab).ravel().astype("int32")
        scores = np.take_along_axis(totals, best, axis=1)
        lengths = lengths[rows] + ~finished[rows]
        finished = finished[rows] | (token == EOS_ID)
        history = np.concatenate([history[rows], token[:, None]], axis=1)
        state = outputs["new_state"][rows]
        if trace:
            hypotheses = hypotheses[rows] * 1_000_003 + token  # int64 wraps around: a hash, not the ids
            runner_up = np.take_along_axis(totals, ranking[:, width : width + 1], axis=1)[:, 0]
            steps.append((hypotheses.reshape(batch, width), scores, runner_up))
        if "attention" in outputs:
            step_attention = outputs["attention"][rows][:, None]
            attention_history = step_attention if attention_history is None else np.concatenate([attention_history[rows], step_attention], axis=1)
        if finished.all():
            break
    normalised = scores.ravel() / np.maximum(lengths, 1) ** length_penalty
    searched = dict(zip(("beams", "beam_scores", "runner_up"), (np.stack(column) for column in zip(*steps)))) if trace else {}
    results = []
    for sentence in range(batch):
        best_row = sentence * width + int(np.argmax(normalised[sentence * width : (sentence + 1) * width]))
        ids = [int(i) for i in history[best_row] if i not in (PAD_ID, EOS_ID)]
        attention = None if attention_history is None else attention_history[best_row, : len(ids) + 1]
        results.append({"ids": ids, "score": float(normalised[best_row]), "attention": attention})
        if trace:
            results[-1]["trace"] = {key: values[:, sentence] for key, values in searched.items()}
    return results


def beam_search_in_batches(run, source, max_length, beam_width=1, batch_size=64, trace=False):
    """`beam_search` over a large array of source ids, `batch_size` rows at a time."""
    results = []
    for start in range(0, len(source), batch_size):
        results += beam_search(run, source[start : start + batch_size], max_length, beam_width, trace=trace)
    return results


def padded_ids(results):
    """The decoded ids of `beam_search` results as one right-padded (rows, longest) array."""
    return pad_batch([np.array(result["ids"], dtype="int32") for result in results])
