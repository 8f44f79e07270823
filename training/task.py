"""The interface between a recipe and its task module (`training.language_model`, `training.translation`, ...)."""
from typing import Protocol, runtime_checkable


@runtime_checkable
class Task(Protocol):
    """What every task module provides; the training loop, `zoo evaluate` and the cards use nothing else."""

    MAX_LENGTH: int | None  # longest input (tokens or characters) the preset accepts; None for a prompt of any length

    def prepare(self, recipe, seed):
        """(tokenizer, {"train": `training.batches.EpochBatches`, "validation": (inputs, targets[, weights])})."""

    def vocabulary_sizes(self, tokenizer):
        """The model constructor's vocabulary arguments."""

    def evaluate(self, model, tokenizer, seed, split="test"):
        """The card's metrics on the held-out split, recomputable by anyone (decoders also take `beam_widths`)."""

    def held_out_inputs(self, tokenizer, seed):
        """Encoded held-out inputs the parity gate decodes (token ids, or grey uint8 images), or None."""

    def card_extras(self, model, tokenizer, metrics, folder):
        """Extra metadata for the card (examples, samples, figures written into `folder`)."""


@runtime_checkable
class LengthStudy(Protocol):
    """A translation task whose quality `zoo study length` plots against source length."""

    TITLE: str
    LENGTH_SCORE: str
    LENGTH_BUCKETING: str

    def length_rows(self, model, tokenizer, seed):
        """One row per source-length bucket: length, count, mean_source_words and the score."""
