"""SMILES generation (Segler et al. 2017; the MOSES CharRNN baseline): a character language model of the MOSES
molecules, one SMILES per line, scored as MOSES scores generators: validity, uniqueness and novelty of samples."""
import re
from collections import Counter

import numpy as np

from training.batches import ArrayBatches
from training.data import moses
from training.language_model import bits_per_character, chunk
from zoo.core.decoding import sample_smiles
from zoo.core.molecules import LINE_END, canonical, rdkit_chem
from zoo.core.tokenizers import CharTokenizer
from zoo.runner import KerasRunner

MAX_LENGTH = None  # a prompt (a SMILES prefix) of any length
# Per split: (test molecules scored for bits per character, samples drawn). `test` is what MOSES publishes (10,000
# samples); `sample` is the small version the tests recompute on every backend.
SIZES = {"test": (20_000, 10_000), "sample": (2_000, 1_000)}
MOSES_CHARRNN = {"valid": 0.975, "unique_at_10k": 0.999, "novelty": 0.842}
INVALID_RULES = ("empty", "branch", "ring", "valence", "aromaticity", "other")
KEKULIZE_PROBLEMS = {"KekulizeException", "AtomKekulizeException"}


def stream(smiles):
    return LINE_END.join(smiles) + LINE_END


def prepare(recipe, seed):
    """Tokenizer, shuffled training batches and validation chunks of the molecules, one per line."""
    splits = moses.load_splits(seed)
    tokenizer = CharTokenizer.fit([stream(splits["train"])])
    train, validation = (chunk(tokenizer.encode(stream(splits[split])), recipe.sequence_length) for split in ("train", "validation"))
    return tokenizer, {"train": ArrayBatches(train, recipe.batch_size, seed), "validation": validation}


def vocabulary_sizes(tokenizer):
    return {"vocab_size": tokenizer.vocab_size}


def sample(runner, tokenizer, count, temperature=1.0, seed=0):
    """`count` SMILES, each sampled from a line start to its line end."""
    return sample_smiles(runner, tokenizer, "", count, temperature, np.random.default_rng(seed))


def why_invalid(smiles):
    """The rule an invalid SMILES breaks: `empty`; `branch` (unbalanced parentheses) or `ring` (a ring bond left open),
    where RDKit cannot parse it; `valence` or `aromaticity` (no Kekulé form), where it parses but cannot be sanitised;
    else `other`."""
    if not smiles:
        return "empty"
    Chem = rdkit_chem()
    molecule = Chem.MolFromSmiles(smiles, sanitize=False)
    if molecule is None:
        if smiles.count("(") != smiles.count(")"):
            return "branch"
        ring_labels = Counter(re.findall(r"%\d\d|\d", re.sub(r"\[[^\]]*\]", "", smiles)))
        return "ring" if any(count % 2 for count in ring_labels.values()) else "other"
    problems = {problem.GetType() for problem in Chem.DetectChemistryProblems(molecule)}
    return "valence" if "AtomValenceException" in problems else "aromaticity" if problems & KEKULIZE_PROBLEMS else "other"


def generation_metrics(samples, training_smiles):
    """MOSES' metrics of a generator: the valid share; among the valid, the unique share; among the unique, the
    share not in the training set (compared as MOSES does, with the training file's SMILES, already canonical).
    Then the share of all samples that breaks each rule of `why_invalid`."""
    forms = [canonical(smiles) for smiles in samples]
    valid = [form for form in forms if form is not None]
    unique = set(valid)
    broken = Counter(why_invalid(smiles) for smiles, form in zip(samples, forms) if form is None)
    return {
        "valid": round(len(valid) / len(samples), 4),
        "unique_at_10k": round(len(unique) / max(len(valid), 1), 4),
        "novelty": round(len(unique - training_smiles) / max(len(unique), 1), 4),
        **{f"invalid_{rule}": round(broken[rule] / len(samples), 4) for rule in INVALID_RULES},
    }


def evaluate(model, tokenizer, seed, split="test"):
    """Bits per character on MOSES' first test molecules; validity, uniqueness and novelty of samples at temperature 1
    (`split="sample"`: fewer of both, for the tests)."""
    molecules, count = SIZES[split]
    splits = moses.load_splits(seed)
    bpc, characters = bits_per_character(model, tokenizer.encode(stream(splits["test"][:molecules])))
    samples = sample(KerasRunner(model), tokenizer, count, temperature=1.0, seed=seed)
    metrics = {f"{split}_bits_per_character": round(bpc, 4), f"{split}_characters": characters, "samples": count}
    metrics |= {f"sample_{key}": value for key, value in generation_metrics(samples, set(splits["train"])).items()}
    return metrics | ({f"moses_charrnn_{key}": value for key, value in MOSES_CHARRNN.items()} if split == "test" else {})


def held_out_inputs(tokenizer, seed):
    """None: a language model decodes nothing for the parity gate (its graphs are compared tensor by tensor)."""


def card_extras(model, tokenizer, metrics, folder):
    """Metrics on the small `sample` split (what the tests recompute) and a dozen molecules with RDKit's verdict."""
    samples = sample(KerasRunner(model), tokenizer, 12, temperature=1.0, seed=1)
    return {"sample_metrics": evaluate(model, tokenizer, 0, split="sample"), "molecules": [{"smiles": smiles, "canonical": canonical(smiles)} for smiles in samples]}
