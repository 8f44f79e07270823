"""SMILES generation (Segler et al. 2017; the MOSES CharRNN baseline): a character language model of the MOSES
molecules, one SMILES per line, scored as MOSES scores generators: validity, uniqueness and novelty of samples."""
import numpy as np

from training.batches import ArrayBatches
from training.data import moses
from training.language_model import bits_per_character, chunk
from zoo.core.decoding import sample_smiles
from zoo.core.molecules import LINE_END, canonical
from zoo.core.tokenizers import CharTokenizer
from zoo.runner import KerasRunner

MAX_LENGTH = None  # a prompt (a SMILES prefix) of any length
SAMPLES = 10_000  # as MOSES' published metrics (valid, unique@10k, novelty)
TEST_MOLECULES = 20_000  # the first ones of MOSES' test file, for bits per character
MOSES_CHARRNN = {"valid": 0.975, "unique_at_10k": 0.999, "novelty": 0.842}


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


def generation_metrics(samples, training_molecules):
    """MOSES' metrics of a generator: valid share, unique share of the valid ones, novel share of the unique ones."""
    valid = [form for form in map(canonical, samples) if form is not None]
    unique = set(valid)
    novel = unique - training_molecules
    return {"valid": round(len(valid) / len(samples), 4), "unique_at_10k": round(len(unique) / max(len(valid), 1), 4), "novelty": round(len(novel) / max(len(unique), 1), 4)}


def evaluate(model, tokenizer, seed, split="test"):
    """Bits per character on MOSES' test molecules; validity, uniqueness and novelty of 10,000 samples at temperature 1."""
    splits = moses.load_splits(seed)
    bpc, characters = bits_per_character(model, tokenizer.encode(stream(splits[split][:TEST_MOLECULES])))
    samples = sample(KerasRunner(model), tokenizer, SAMPLES, temperature=1.0, seed=seed)
    training_molecules = {canonical(smiles) for smiles in splits["train"]}
    metrics = {f"sample_{key}": value for key, value in generation_metrics(samples, training_molecules).items()}
    metrics |= {f"moses_charrnn_{key}": value for key, value in MOSES_CHARRNN.items()}
    return {f"{split}_bits_per_character": round(bpc, 4), f"{split}_characters": characters, "samples": SAMPLES, "sample_temperature": 1.0, **metrics}


def held_out_inputs(tokenizer, seed):
    """None: a language model decodes nothing for the parity gate (its graphs are compared tensor by tensor)."""


def card_extras(model, tokenizer, metrics, folder):
    samples = sample(KerasRunner(model), tokenizer, 12, temperature=1.0, seed=1)
    return {"molecules": [{"smiles": smiles, "canonical": canonical(smiles)} for smiles in samples]}
