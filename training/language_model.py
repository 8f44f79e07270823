"""Character language modelling: many-to-many training, bits per character, sampled text."""
import math

import numpy as np

from training.batches import TextWindows
from training.data import shakespeare
from zoo.core.decoding import sample_text
from zoo.core.tokenizers import CharTokenizer
from zoo.runner import KerasRunner

SAMPLE_PROMPT = "ROMEO:\n"
MAX_LENGTH = None  # a prompt of any length
SAMPLE_CHARACTERS = 16_385  # 64 rows of 256 characters


def prepare(recipe, seed):
    """Tokenizer, training windows cut anew every epoch, and the validation (inputs, targets) chunks of the plays."""
    splits = shakespeare.load_splits()
    tokenizer = CharTokenizer.fit(splits.values())
    train = TextWindows(tokenizer.encode(splits["train"]), recipe.sequence_length, recipe.batch_size, seed)
    return tokenizer, {"train": train, "validation": chunk(tokenizer.encode(splits["validation"]), recipe.sequence_length)}


def chunk(ids, sequence_length):
    count = (len(ids) - 1) // sequence_length
    inputs = ids[: count * sequence_length].reshape(count, sequence_length)
    targets = ids[1 : count * sequence_length + 1].reshape(count, sequence_length)
    return inputs, targets


def bits_per_character(model, ids, segments=64):
    """Mean -log2 p(next char) over `ids`, read as `segments` contiguous rows in one batch.

    Each row starts from a zero state, so only `segments` characters lack context.
    """
    length = (len(ids) - 1) // segments
    inputs, targets = chunk(ids[: segments * length + 1], length)
    logits = np.asarray(model.predict_on_batch(inputs), dtype="float64")
    logits -= logits.max(axis=-1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)
    return float(-picked.mean() / math.log(2)), int(targets.size)


def evaluate(model, tokenizer, seed, split="test"):
    """Bits per character on a split of the plays (`split="sample"`: the first SAMPLE_CHARACTERS of the test plays, the
    start of Henry V, for the tests: a recurrent step at a time, the whole plays take minutes on the torch backend)."""
    splits = shakespeare.load_splits()
    text = splits["test"][:SAMPLE_CHARACTERS] if split == "sample" else splits[split]
    bpc, characters = bits_per_character(model, tokenizer.encode(text))
    metrics = {f"{split}_bits_per_character": round(bpc, 4), f"{split}_characters": characters}
    return metrics | {"test_plays": list(shakespeare.TEST_PLAYS)} if split == "test" else metrics


def sample(model, tokenizer, length=300, temperature=0.8, seed=0):
    """A sample from the Keras model, through the same numpy decoding loop that serving uses."""
    return sample_text(KerasRunner(model), tokenizer, SAMPLE_PROMPT, length, temperature, np.random.default_rng(seed))


def vocabulary_sizes(tokenizer):
    return {"vocab_size": tokenizer.vocab_size}


def held_out_inputs(tokenizer, seed):
    """None: a language model decodes nothing for the parity gate (its graphs are compared tensor by tensor)."""


def card_extras(model, tokenizer, metrics, folder):
    return {"sample_metrics": evaluate(model, tokenizer, 0, split="sample"), "sample": sample(model, tokenizer)}
