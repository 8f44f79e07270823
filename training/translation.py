"""Sequence-to-sequence translation: teacher-forced training, greedy and beam evaluation by source length."""
import numpy as np

from training.batches import ArrayBatches
from training.data import numbers
from training.scores import decode_widths
from zoo.core.tokenizers import BOS_ID, PAD_ID, TokenizerPair, WordTokenizer

TRAIN_SIZE = 307_200
DIGIT_BUCKETS = ((1, 3), (4, 6), (7, 9), (10, 12))
MAX_LENGTH = 48  # source tokens, the end token included; 12-digit numbers need at most 33
EXAMPLES = (7, 80, 91, 423, 1_001, 71_000_000, 999_999_999_999)
TITLE = "English -> French number words"
LENGTH_SCORE = "exact_match"
LENGTH_BUCKETING = "one bucket per digit count, 1-12"


def vocabulary_sizes(tokenizer):
    return {"source_vocab_size": tokenizer.source.vocab_size, "target_vocab_size": tokenizer.target.vocab_size}


def decoder_targets(tokenizer, texts):
    """Targets, decoder inputs (the targets shifted right after the start id) and weights that zero the padding."""
    target_out = tokenizer.encode_batch(texts)
    target_in = np.concatenate([np.full((len(target_out), 1), BOS_ID, "int32"), target_out[:, :-1]], axis=1)
    return target_out, target_in, (target_out != PAD_ID).astype("float32")


def teacher_forcing(tokenizer, sources, targets):
    """Model inputs {source, target_in}, the targets, and weights that zero the padded targets."""
    target_out, target_in, weights = decoder_targets(tokenizer.target, targets)
    return {"source": tokenizer.source.encode_batch(sources), "target_in": target_in}, target_out, weights


def prepare(recipe, seed):
    splits = numbers.load_splits(seed, TRAIN_SIZE)
    tokenizer = TokenizerPair(WordTokenizer.fit(splits["train"][1]), WordTokenizer.fit(splits["train"][2]))
    train, validation = (teacher_forcing(tokenizer, *splits[split][1:]) for split in ("train", "validation"))
    return tokenizer, {"train": ArrayBatches(train, recipe.batch_size, seed), "validation": validation}


def held_out_inputs(tokenizer, seed):
    """Source ids of the test numbers, which the parity gate decodes."""
    return tokenizer.source.encode_batch(numbers.load_splits(seed, train_size=0)["test"][1])


def max_target_length(tokenizer, texts):
    return max(len(tokenizer.target.encode(text)) for text in texts)


def score(tokenizer, results, references):
    """Exact match and token accuracy (reference tokens matched at their position) of decoded results."""
    exact, matched, total = 0, 0, 0
    for result, reference in zip(results, references):
        expected = list(tokenizer.target.encode(reference)[:-1])
        exact += result["ids"] == expected
        matched += sum(a == b for a, b in zip(result["ids"], expected))
        total += max(len(expected), len(result["ids"]))
    return {"exact_match": round(exact / len(references), 4), "token_accuracy": round(matched / total, 4), "count": len(references)}


def evaluate(model, tokenizer, seed, split="test", beam_widths=(1, 4)):
    """Exact match and token accuracy, overall and per digit-count bucket, for greedy and beam decoding; exact match on round numbers."""
    splits = numbers.load_splits(seed, train_size=0)
    numbers_, sources, targets = splits[split]
    _, round_sources, round_targets = splits["round_test"]
    max_length = max_target_length(tokenizer, targets + round_targets) + 5
    decoded = decode_widths(model, tokenizer.source.encode_batch(sources + round_sources), max_length, beam_widths)
    metrics = {}
    for decoding, results in decoded.items():
        results, round_results = results[: len(sources)], results[len(sources) :]
        overall = score(tokenizer, results, targets)
        metrics[f"test_{decoding}_exact_match"] = overall["exact_match"]
        metrics[f"test_{decoding}_token_accuracy"] = overall["token_accuracy"]
        for low, high in DIGIT_BUCKETS:
            rows = [i for i, n in enumerate(numbers_) if low <= len(str(n)) <= high]
            metrics[f"{decoding}_exact_match_{low}_{high}_digits"] = score(tokenizer, [results[i] for i in rows], [targets[i] for i in rows])["exact_match"]
        metrics[f"round_test_{decoding}_exact_match"] = score(tokenizer, round_results, round_targets)["exact_match"]
    metrics["test_numbers"], metrics["round_test_numbers"] = len(numbers_), len(round_sources)
    return metrics


def length_rows(model, tokenizer, seed):
    """Greedy exact match and token accuracy on the test numbers of each digit count."""
    numbers_, sources, targets = numbers.load_splits(seed, train_size=0)["test"]
    results = decode_widths(model, tokenizer.source.encode_batch(sources), MAX_LENGTH, (1,))["greedy"]
    rows = []
    for digits in range(1, numbers.MAX_DIGITS + 1):
        picked = [i for i, n in enumerate(numbers_) if len(str(n)) == digits]
        bucket = score(tokenizer, [results[i] for i in picked], [targets[i] for i in picked])
        words = sum(len(sources[i].replace("-", " ").split()) for i in picked) / len(picked)
        rows.append({"length": f"{digits} digits", "count": bucket["count"], "mean_source_words": round(words, 1), "exact_match": bucket["exact_match"], "token_accuracy": bucket["token_accuracy"]})
    return rows


def card_extras(model, tokenizer, metrics, folder):
    sources = [numbers.words(n, "en") for n in EXAMPLES]
    results = decode_widths(model, tokenizer.source.encode_batch(sources), MAX_LENGTH, (4,))["beam4"]
    return {"examples": [{"source": s, "translation": tokenizer.target.decode(r["ids"]), "reference": numbers.words(n, "fr")} for s, r, n in zip(sources, results, EXAMPLES)]}
