"""Reading printed text lines as captioning (Show, attend and read, Li et al. 2019): the image of a line in, its
characters out; scored by character and word errors, and by whether attention looks at each character as the decoder
writes it."""
import numpy as np

from training.captioning import image_batches, vocabulary_sizes, write_overlay  # noqa: F401 (vocabulary_sizes: task interface)
from training.data import text_lines
from training.scores import decode_widths
from zoo.core.images import pixels
from zoo.core.tokenizers import SymbolTokenizer

TRAIN_SIZE = 100_000
MAX_LENGTH = text_lines.MAX_CHARACTERS + 2  # characters, the end token included, and one to spare for a misreading
SAMPLE_SIZE = 200  # the first test lines: the parity gate's held-out inputs
CELL_PIXELS = 14  # one column of the captioner's attention grid
EXAMPLES = ("show attend and read", "the quick brown fox", "to be or not to be")


def prepare(recipe, seed):
    splits = text_lines.load_splits(seed, TRAIN_SIZE)
    tokenizer = SymbolTokenizer.fit(splits["train"][2], "lowercase_characters")
    return tokenizer, image_batches(splits, tokenizer, recipe.batch_size, seed)


def held_out_inputs(tokenizer, seed):
    """The first test lines' images (grey uint8), which the parity gate decodes."""
    return text_lines.load_test(seed, SAMPLE_SIZE)[0]


def edit_distance(written, reference):
    """Levenshtein distance between two sequences (characters, or words)."""
    row = list(range(len(reference) + 1))
    for i, item in enumerate(written, 1):
        previous, row[0] = row[0], i
        for j, wanted in enumerate(reference, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (item != wanted))
    return row[-1]


def words_in_order(written, reference):
    """How many of the reference words the reading has, in order (their longest common subsequence)."""
    row = [0] * (len(reference) + 1)
    for item in written:
        previous = 0
        for j, wanted in enumerate(reference, 1):
            previous, row[j] = row[j], previous + 1 if item == wanted else max(row[j], row[j - 1])
    return row[-1]


def reading_scores(readings, lines):
    """Character error rate and word error rate (edit distance over the reference's length, summed over lines), word
    accuracy (the share of reference words read, in order) and exact lines."""
    words = [(reading.split(), line.split()) for reading, line in zip(readings, lines)]
    reference_words = sum(len(reference) for _, reference in words)
    return {
        "character_error_rate": round(sum(map(edit_distance, readings, lines)) / sum(map(len, lines)), 4),
        "word_error_rate": round(sum(edit_distance(*pair) for pair in words) / reference_words, 4),
        "word_accuracy": round(sum(words_in_order(*pair) for pair in words) / reference_words, 4),
        "exact_match": round(float(np.mean([reading == line for reading, line in zip(readings, lines)])), 4),
    }


def character_grounding(results, extents, lines, tokenizer):
    """Per letter written where the line so far is right (attention as grids): the attention mass on the grid columns (all rows) that
    overlap the letter's drawn x-extent, what uniform attention would put there, and whether the top cell lies in
    those columns. Spaces have no ink and are skipped."""
    records = []
    for result, extent, line in zip(results, extents, lines):
        grids = np.asarray(result["attention"], dtype="float64")  # (steps, rows, columns)
        columns = grids.shape[-1]
        written = tokenizer.decode(result["ids"])
        right = next((t for t, (a, b) in enumerate(zip(written, line)) if a != b), min(len(written), len(line)))
        starts = np.arange(columns) * CELL_PIXELS
        for step in range(right):
            if line[step] == " ":
                continue
            on = (starts < extent[step][1]) & (starts + CELL_PIXELS > extent[step][0])
            per_column = grids[step].sum(axis=0)
            records.append((per_column[on].sum(), on.mean(), on[int(np.argmax(grids[step])) % columns]))
    mass, uniform, top_cell = (round(float(mean), 4) for mean in np.mean(records, axis=0)) if records else (None,) * 3
    return {"character_attention_mass": mass, "character_attention_uniform": uniform, "character_top_cell": top_cell, "character_letters": len(records)}


def evaluate(model, tokenizer, seed, split="test", beam_widths=(1, 3)):
    """Character and word errors for greedy and beam decoding; character grounding of the greedy readings."""
    images, extents, lines = text_lines.load_test(seed) if split == "test" else text_lines.load_splits(seed, 0)[split]
    metrics = {f"{split}_lines": len(images)}
    for decoding, results in decode_widths(model, pixels(images), MAX_LENGTH, beam_widths).items():
        scores = reading_scores([tokenizer.decode(result["ids"]) for result in results], lines)
        metrics |= {f"{split}_{decoding}_{key}": value for key, value in scores.items()}
        if decoding == "greedy":
            grids = [{**result, "attention": np.asarray(result["attention"]).reshape(-1, *model.grid_shape)} for result in results]
            metrics |= character_grounding(grids, extents, lines, tokenizer)
    return metrics


def card_extras(model, tokenizer, metrics, folder):
    """Example phrases printed in the held-out face, read greedily, and the attention overlay of the first."""
    rng = np.random.default_rng(0)
    images = np.stack([text_lines.render(line, text_lines.TEST_FONT, rng)[0] for line in EXAMPLES])
    results = decode_widths(model, pixels(images), MAX_LENGTH, (1,))["greedy"]
    examples = [{"source": f"{line!r} in {text_lines.TEST_FONT.split('/')[-1]}", "translation": tokenizer.decode(r["ids"]), "reference": line} for line, r in zip(EXAMPLES, results)]
    return {"examples": examples, "examples_decoding": "greedy", **write_overlay(model, tokenizer, images[0], results[0], folder)}
