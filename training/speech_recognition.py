"""Spelling spoken numbers (Listen, attend and spell, Chan et al. 2016): log-mel frames of espeak-ng speech in, the
number's words out as characters; scored by character and word errors on held-out voices, and by whether attention
moves forward through the audio as the speller writes."""
from pathlib import Path

import numpy as np

from serving.alignment import draw_spectrogram_alignment
from training.batches import LengthBuckets
from training.data import spoken_numbers
from training.scores import DECODING_BATCH, decode_widths
from training.text_reading import reading_scores
from training.translation import decoder_targets
from zoo.core.audio import padded_frames
from zoo.core.tokenizers import SymbolTokenizer

TRAIN_SIZE = 32_000
MEL_BINS, PYRAMID_LEVELS = 40, 3  # the recipe's model takes these
FRAME_MULTIPLE = 2**PYRAMID_LEVELS
MAX_LENGTH = 76  # characters, the end token included; the longest number has 73
SAMPLE_SIZE = 64  # the first test utterances: the parity gate's held-out inputs
FIGURE = "attention_alignment.png"


def vocabulary_sizes(tokenizer):
    return {"target_vocab_size": tokenizer.vocab_size}


class UtteranceBuckets(LengthBuckets):
    """Teacher-forced batches of utterances of similar length, their frames padded to their group's longest."""

    def __init__(self, frames, texts, tokenizer, batch_size, seed):
        self.frames = frames
        target_out, target_in, weights = decoder_targets(tokenizer, texts)
        super().__init__(({"target_in": target_in}, target_out, weights), batch_size, seed, buckets=8)

    def source_lengths(self):
        return np.array([len(frames) for frames in self.frames])

    def sources(self, rows, length):
        return {"frames": padded_frames([self.frames[row] for row in rows], FRAME_MULTIPLE, length)}


def prepare(recipe, seed):
    splits = spoken_numbers.load_splits(seed, TRAIN_SIZE, MEL_BINS)
    tokenizer = SymbolTokenizer.fit(splits["train"][1], "lowercase_characters")
    frames, texts, _ = splits["validation"]
    target_out, target_in, weights = decoder_targets(tokenizer, texts)
    return tokenizer, {
        "train": UtteranceBuckets(*splits["train"][:2], tokenizer, recipe.batch_size, seed),
        "validation": ({"frames": padded_frames(frames, FRAME_MULTIPLE), "target_in": target_in}, target_out, weights),
    }


def held_out_inputs(tokenizer, seed):
    """The first test utterances' frames, which the parity gate decodes."""
    return padded_frames(spoken_numbers.load_test(seed, MEL_BINS, SAMPLE_SIZE)[0], FRAME_MULTIPLE)


def decode_shortest_first(model, frames, beam_widths):
    """`decode_widths` results in the order of `frames`, decoded shortest first so that each batch is padded only to
    its own longest utterance."""
    order = np.argsort([len(f) for f in frames], kind="stable")
    results = {}
    for start in range(0, len(order), DECODING_BATCH):
        rows = order[start : start + DECODING_BATCH]
        batch = padded_frames([frames[row] for row in rows], FRAME_MULTIPLE)
        for decoding, decoded in decode_widths(model, batch, MAX_LENGTH, beam_widths).items():
            ordered = results.setdefault(decoding, [None] * len(frames))
            for row, result in zip(rows, decoded):
                ordered[row] = result
    return results


def peak_moves(results):
    """From one written character to the next: how often the attention's peak stays or moves forward (monotonic
    attention), and how often it moves forward."""
    moves = np.concatenate([np.diff(np.argmax(np.asarray(result["attention"]), axis=-1)) for result in results] + [np.zeros(0)])
    share = lambda kept: round(float(np.mean(kept)), 4) if len(moves) else None
    return {"attention_forward_share": share(moves >= 0), "attention_advance_share": share(moves > 0)}


def evaluate(model, tokenizer, seed, split="test", beam_widths=(1, 3)):
    """Character and word errors for greedy and beam decoding on held-out voices; attention monotonicity of greedy.
    The `sample` split is the test set's first utterances, the parity gate's."""
    frames, texts, _ = spoken_numbers.load_test(seed, MEL_BINS, SAMPLE_SIZE if split == "sample" else spoken_numbers.TEST_SIZE)
    metrics = {f"{split}_utterances": len(frames)}
    for decoding, results in decode_shortest_first(model, frames, beam_widths).items():
        readings = [tokenizer.decode(result["ids"]) for result in results]
        metrics |= {f"{split}_{decoding}_{key}": value for key, value in reading_scores(readings, texts).items()}
        if decoding == "greedy":
            metrics |= peak_moves(results)
    return metrics


def card_extras(model, tokenizer, metrics, folder):
    """Metrics on the parity gate's utterances (what the tests recompute), the first test utterances spelled greedily,
    and the alignment figure of the first."""
    frames, texts, voices = spoken_numbers.load_test(0, MEL_BINS, 6)
    results = decode_shortest_first(model, frames, (1,))["greedy"]
    examples = [{"source": f"{text!r} spoken by {voice}", "translation": tokenizer.decode(r["ids"]), "reference": text} for text, voice, r in zip(texts, voices, results)]
    tokens = tokenizer.tokens(results[0]["ids"] + [tokenizer.EOS_ID])[: len(results[0]["attention"])]
    draw_spectrogram_alignment(frames[0], results[0]["attention"], tokens, FRAME_MULTIPLE, Path(folder) / FIGURE)
    sample = evaluate(model, tokenizer, 0, split="sample")
    return {"sample_metrics": sample, "examples": examples, "examples_decoding": "greedy", "alignment_png": FIGURE}
