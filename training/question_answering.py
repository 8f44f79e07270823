"""Questions about composed Fashion-MNIST scenes: accuracy per kind against the best question-only answers, grounding."""
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from serving.overlay import cell_masses, draw_overlay
from training.batches import ArrayBatches
from training.captioning import load_split
from training.data import fashion_scenes, scene_questions
from training.scores import decode_widths
from training.translation import decoder_targets
from zoo.core.images import pixels
from zoo.core.tokenizers import TokenizerPair, WordTokenizer

TRAIN_SCENES = 80_000
MAX_LENGTH = 12  # question tokens, and answer tokens, the end token included; the longest question has 9
OVERLAY = "attention_overlay.png"
# The questions of each split are drawn from their own stream: (seed, split).
STREAMS = {"train": 0, "validation": 1, "test": 2, "sample": 2}


def vocabulary_sizes(tokenizer):
    return {"question_vocab_size": tokenizer.source.vocab_size, "vocab_size": tokenizer.target.vocab_size}


def asked(layouts, split, seed):
    """Every question about `layouts` (four per scene), as columns: scene index, kind, question, answer, cells."""
    return tuple(map(list, zip(*scene_questions.questions(layouts, [seed, STREAMS[split]]))))


class QuestionBatches(ArrayBatches):
    """Teacher-forced batches; scenes stay uint8 until batched, each shared by its four questions."""

    def __init__(self, images, arrays, batch_size, seed):
        self.images = images
        super().__init__(arrays, batch_size, seed)

    def batch(self, rows):
        inputs, target_out, weights = super().batch(np.sort(rows))
        return with_images(self.images, inputs), target_out, weights


def with_images(images, inputs):
    """The model's inputs from {scene, question, target_in}: each row's scene as pixels."""
    return {"image": pixels(images[inputs["scene"]]), "question": inputs["question"], "target_in": inputs["target_in"]}


def teacher_forcing(tokenizer, layouts, split, seed):
    """Inputs {scene, question, target_in}, targets and weights of every question about `layouts`."""
    scenes, _, questions, answers, _ = asked(layouts, split, seed)
    target_out, target_in, weights = decoder_targets(tokenizer.target, answers)
    return {"scene": np.array(scenes), "question": tokenizer.source.encode_batch(questions), "target_in": target_in}, target_out, weights


def prepare(recipe, seed):
    splits = fashion_scenes.load_splits(seed, TRAIN_SCENES)
    images, layouts, _ = splits["train"]
    _, _, questions, answers, _ = asked(layouts, "train", seed)
    tokenizer = TokenizerPair(WordTokenizer.fit(questions), WordTokenizer.fit(answers))
    validation_images, validation_layouts, _ = splits["validation"]
    inputs, target_out, weights = teacher_forcing(tokenizer, validation_layouts, "validation", seed)
    return tokenizer, {
        "train": QuestionBatches(images, teacher_forcing(tokenizer, layouts, "train", seed), recipe.batch_size, seed),
        "validation": (with_images(validation_images, inputs), target_out, weights),
    }


def encoder_inputs(tokenizer, images, scenes, questions):
    return {"image": pixels(images[scenes]), "question": tokenizer.source.encode_batch(questions)}


def held_out_inputs(tokenizer, seed):
    """What the parity gate decodes: each scene of the shipped sample once, asked its questions' kinds in turn."""
    images, layouts, _ = load_split("sample", seed)
    scenes, _, questions, _, _ = asked(layouts, "sample", seed)
    kinds = len(scene_questions.KINDS)
    picked = [scene * kinds + scene % kinds for scene in range(len(images))]
    return {"image": images, "question": tokenizer.source.encode_batch([questions[row] for row in picked])}


def question_only_answers(seed):
    """The training answer most often given to each question: the best any model that ignores the image can do."""
    # The training scenes' layouts, drawn as `load_splits` draws them (its first split), without painting 80,000 scenes.
    layouts, _ = fashion_scenes.draw_layouts(fashion_scenes.load_items("train")[1], TRAIN_SCENES, np.random.default_rng(seed))
    _, _, questions, answers, _ = asked(layouts, "train", seed)
    counts = defaultdict(Counter)
    for question, answer in zip(questions, answers):
        counts[question][answer] += 1
    return {question: counter.most_common(1)[0][0] for question, counter in counts.items()}


def accuracies(name, correct, kinds):
    """Overall and per-kind share of `correct`, keyed `name` and `name_<kind>`."""
    correct, kinds = np.array(correct), np.array(kinds)
    return {name: round(float(correct.mean()), 4)} | {f"{name}_{kind}": round(float(correct[kinds == kind].mean()), 4) for kind in scene_questions.KINDS}


def grounding(results, kinds, cells):
    """Per kind, at the first answer step: the attention mass on the cells the question is about, how often one of
    them gets the most, and what uniform attention gives. Questions about an item the scene lacks are about no cell."""
    metrics = {}
    for kind in sorted(set(kinds), key=scene_questions.KINDS.index):
        about = [(cell_masses(result["attention"][0], fashion_scenes.GRID), where) for result, asked_kind, where in zip(results, kinds, cells) if asked_kind == kind and where]
        metrics[f"grounding_{kind}_mass"] = round(float(np.mean([mass[where].sum() for mass, where in about])), 4)
        metrics[f"grounding_{kind}_top_cell"] = round(float(np.mean([int(np.argmax(mass)) in where for mass, where in about])), 4)
        metrics[f"grounding_{kind}_uniform"] = round(float(np.mean([len(where) for _, where in about])) / fashion_scenes.GRID**2, 4)
    return metrics


def evaluate(model, tokenizer, seed, split="test", beam_widths=(1, 3)):
    """Accuracy of the answers (greedy and beam) per kind, beside the question-only answers; grounding of the greedy ones."""
    images, layouts, _ = load_split(split, seed)
    scenes, kinds, questions, answers, cells = asked(layouts, split, seed)
    metrics = {f"{split}_questions": len(questions)}
    for decoding, results in decode_widths(model, encoder_inputs(tokenizer, images, scenes, questions), MAX_LENGTH, beam_widths).items():
        predicted = [tokenizer.target.decode(result["ids"]) for result in results]
        metrics |= accuracies(f"{split}_{decoding}_accuracy", [p == a for p, a in zip(predicted, answers)], kinds)
        if decoding == "greedy":
            greedy = results
    best_guess = question_only_answers(seed)
    metrics |= accuracies("question_only_accuracy", [best_guess.get(q) == a for q, a in zip(questions, answers)], kinds)
    return metrics | grounding(greedy, kinds, cells)


def card_extras(model, tokenizer, metrics, folder):
    """Metrics on the shipped sample (what the tests recompute), example answers and an attention overlay."""
    images, layouts, _ = load_split("sample", 0)
    scenes, _, questions, answers, _ = asked(layouts, "sample", 0)
    shown = list(range(8))
    results = decode_widths(model, encoder_inputs(tokenizer, images, np.array(scenes)[shown], [questions[i] for i in shown]), MAX_LENGTH, (1,))["greedy"]
    examples = [{"source": f"sample scene {scenes[i]}: {questions[i]}", "translation": tokenizer.target.decode(r["ids"]), "reference": answers[i]} for i, r in zip(shown, results)]
    tokens = tokenizer.target.tokens(results[0]["ids"] + [tokenizer.target.EOS_ID])[: len(results[0]["attention"])]
    draw_overlay(images[scenes[0]], np.asarray(results[0]["attention"]).reshape(-1, *model.grid_shape), tokens, Path(folder) / OVERLAY)
    return {"sample_metrics": evaluate(model, tokenizer, 0, split="sample"), "examples": examples, "examples_decoding": "greedy", "overlay_png": OVERLAY}
