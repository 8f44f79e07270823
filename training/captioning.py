"""Captioning composed Fashion-MNIST scenes: teacher-forced training, BLEU-4, exact match, attention grounding."""
from pathlib import Path

import numpy as np

from serving.overlay import cell_masses, draw_overlay
from training.batches import ArrayBatches
from training.data import fashion_scenes
from training.scores import corpus_bleu, decode_widths
from training.translation import decoder_targets
from zoo.core.images import pixels
from zoo.core.tokenizers import WordTokenizer

TRAIN_SIZE = 160_000
MAX_LENGTH = 32  # caption tokens, the end token included; the longest caption has 25
# The first 200 test scenes of `fashion_scenes.load_splits(0)`, shipped: tests need no Debian package.
SAMPLE = Path(fashion_scenes.__file__).with_name("fashion_scenes_sample.npz")
ARTICLES = ("a", "an")
# Grounding is measured at three steps of each item phrase "a(n) ITEM at the POSITION".
PHRASE_STEPS = ("article", "item", "position")
OVERLAY = "attention_overlay.png"
# `zoo evaluate --validation` scores the validation scenes, for choosing among runs without the test set.
EVALUATED_SPLITS = ("test", "validation", "sample")


def vocabulary_sizes(tokenizer):
    return {"vocab_size": tokenizer.vocab_size}


class SceneBatches(ArrayBatches):
    """Teacher-forced batches; scenes stay uint8 until batched (as floats the training set would take 4.5 GB)."""

    def __init__(self, scenes, captions, batch_size, seed):
        self.scenes = scenes
        super().__init__(captions, batch_size, seed)

    def batch(self, rows):
        rows = np.sort(rows)
        target_out, target_in, weights = (array[rows] for array in self.arrays)
        return {"image": pixels(self.scenes[rows]), "target_in": target_in}, target_out, weights


def image_batches(splits, tokenizer, batch_size, seed):
    """Teacher-forced training batches and validation arrays of `splits` of (images, layouts, texts)."""
    images, _, texts = splits["train"]
    validation_images, _, validation_texts = splits["validation"]
    target_out, target_in, weights = decoder_targets(tokenizer, validation_texts)
    return {
        "train": SceneBatches(images, decoder_targets(tokenizer, texts), batch_size, seed),
        "validation": ({"image": pixels(validation_images), "target_in": target_in}, target_out, weights),
    }


def prepare(recipe, seed):
    splits = fashion_scenes.load_splits(seed, TRAIN_SIZE)
    tokenizer = WordTokenizer.fit(splits["train"][2])
    return tokenizer, image_batches(splits, tokenizer, recipe.batch_size, seed)


def load_split(split, seed):
    """(scenes, layouts, captions) of the test or validation scenes, or of the shipped `sample` of the test scenes."""
    if split == "sample":
        with np.load(SAMPLE) as data:
            return data["scenes"], data["layouts"], [str(caption) for caption in data["captions"]]
    return fashion_scenes.load_splits(seed, train_size=0)[split]


def held_out_inputs(tokenizer, seed):
    """The held-out scenes the parity gate decodes (grey uint8 images): the shipped sample."""
    return load_split("sample", seed)[0]


def phrase_steps(tokens):
    """Per item phrase of a generated caption, the steps of its article, first item word and first position word."""
    phrases = []
    for t, token in enumerate(tokens):
        if token in ARTICLES and t + 1 < len(tokens):
            the = next((s for s in range(t + 2, len(tokens)) if tokens[s] == "the"), None)
            if the is not None and the + 1 < len(tokens):
                phrases.append({"article": t, "item": t + 1, "position": the + 1})
    return phrases


def grounding(results, layouts, tokenizer):
    """Attention mass on the true cell of each named item, and how often that cell gets the most mass.

    The k-th phrase of a generated caption is matched to the k-th item of the scene in reading order
    (the captions' order); with uniform attention both numbers would be 1/9.
    """
    masses = {step: [] for step in PHRASE_STEPS}
    top = {step: [] for step in PHRASE_STEPS}
    for result, layout in zip(results, layouts):
        cells = [cell for cell, item in enumerate(layout) if item != fashion_scenes.EMPTY]
        for phrase, cell in zip(phrase_steps(tokenizer.tokens(result["ids"])), cells):
            for step in PHRASE_STEPS:
                per_cell = cell_masses(result["attention"][phrase[step]], fashion_scenes.GRID)
                masses[step].append(per_cell[cell])
                top[step].append(int(np.argmax(per_cell)) == cell)
    metrics = {}
    for step in PHRASE_STEPS:
        metrics[f"grounding_{step}_mass"] = round(float(np.mean(masses[step])), 4) if masses[step] else None
        metrics[f"grounding_{step}_top_cell"] = round(float(np.mean(top[step])), 4) if top[step] else None
    metrics["grounding_uniform_baseline"] = round(1 / fashion_scenes.GRID**2, 4)
    metrics["grounding_phrases"] = len(masses["item"])
    return metrics


def evaluate(model, tokenizer, seed, split="test", beam_widths=(1, 3)):
    """BLEU-4 (sacrebleu) and exact caption match for greedy and beam decoding; attention grounding of the greedy captions."""
    scenes, layouts, captions = load_split(split, seed)
    metrics = {f"{split}_scenes": len(scenes)}
    for decoding, results in decode_widths(model, pixels(scenes), MAX_LENGTH, beam_widths).items():
        hypotheses = [tokenizer.decode(result["ids"]) for result in results]
        metrics[f"{split}_{decoding}_bleu4"] = corpus_bleu(hypotheses, captions)
        metrics[f"{split}_{decoding}_exact_match"] = round(float(np.mean([h == c for h, c in zip(hypotheses, captions)])), 4)
        if decoding == "greedy":
            metrics.update(grounding(results, layouts, tokenizer))
    return metrics


def write_overlay(model, tokenizer, image, result, folder):
    """The card's figure: `image` once per token of its greedy `result`, with that step's attention over it."""
    tokens = tokenizer.tokens(result["ids"] + [tokenizer.EOS_ID])[: len(result["attention"])]
    draw_overlay(image, np.asarray(result["attention"]).reshape(-1, *model.grid_shape), tokens, Path(folder) / OVERLAY)
    return {"overlay_png": OVERLAY}


def card_extras(model, tokenizer, metrics, folder):
    """Metrics on the shipped sample (what the tests recompute), example captions and an attention overlay."""
    scenes, _, captions = load_split("sample", 0)
    results = decode_widths(model, pixels(scenes[:6]), MAX_LENGTH, (1,))["greedy"]
    examples = [{"source": f"sample scene {i}", "translation": tokenizer.decode(r["ids"]), "reference": captions[i]} for i, r in enumerate(results)]
    return {"sample_metrics": evaluate(model, tokenizer, 0, split="sample"), "examples": examples, "examples_decoding": "greedy", **write_overlay(model, tokenizer, scenes[0], results[0], folder)}
