"""IUPAC name -> SMILES (name-to-structure, as STOUT learns it and OPSIN writes it by rules): characters of the name
in, atoms and bonds of the canonical SMILES out, scored by chemistry: exact match after RDKit canonicalisation,
validity, Tanimoto similarity of Morgan fingerprints, and exact match against name length."""

from training.batches import ArrayBatches
from training.data import iupac
from training.scores import chemistry_scores, decode_widths, mean_scores
from training.translation import teacher_forcing, vocabulary_sizes  # noqa: F401 (vocabulary_sizes: task interface)
from zoo.core.tokenizers import SymbolTokenizer, TokenizerPair

MAX_LENGTH = 80  # name characters, the end token included; the data keeps names of at most 60
MAX_TARGET_LENGTH = 70  # SMILES symbols the decoder may write; the longest canonical SMILES kept has 60 characters
NAME_BUCKETS = ((1, 15), (16, 25), (26, 35), (36, 45), (46, 60))  # name characters
# Known drugs, named as PubChem names them: aspirin, paracetamol, caffeine, ibuprofen.
EXAMPLES = {
    "2-acetyloxybenzoic acid": "CC(=O)Oc1ccccc1C(=O)O",
    "n-(4-hydroxyphenyl)acetamide": "CC(=O)Nc1ccc(O)cc1",
    "1,3,7-trimethylpurine-2,6-dione": "Cn1c(=O)c2c(ncn2C)n(C)c1=O",
    "2-[4-(2-methylpropyl)phenyl]propanoic acid": "CC(C)Cc1ccc(C(C)C(=O)O)cc1",
}


def known(tokenizer, names, smiles):
    """The pairs whose every symbol the vocabularies hold (a few held-out SMILES have bracket atoms training lacks)."""
    source, target = set(tokenizer.source.words), set(tokenizer.target.words)
    keep = [i for i, (name, formula) in enumerate(zip(names, smiles)) if set(tokenizer.source.split(name)) <= source and set(tokenizer.target.split(formula)) <= target]
    return [names[i] for i in keep], [smiles[i] for i in keep]


def prepare(recipe, seed):
    splits = iupac.load_splits(seed)
    names, smiles = splits["train"]
    tokenizer = TokenizerPair(SymbolTokenizer.fit(names, "lowercase_characters"), SymbolTokenizer.fit(smiles, "smiles"))
    train = teacher_forcing(tokenizer, names, smiles)
    return tokenizer, {"train": ArrayBatches(train, recipe.batch_size, seed), "validation": teacher_forcing(tokenizer, *known(tokenizer, *splits["validation"]))}


def held_out_inputs(tokenizer, seed):
    """Name ids of the test compounds the vocabulary can read, which the parity gate decodes."""
    names, smiles = iupac.load_splits(seed)["test"]
    return tokenizer.source.encode_batch(known(tokenizer, names, smiles)[0])


def evaluate(model, tokenizer, seed, split="test", beam_widths=(1, 4)):
    """Chemistry scores of greedy and beam decoding on every held-out compound (those with symbols the vocabulary
    lacks count as misses), and greedy exact match per name-length bucket."""
    names, smiles = iupac.load_splits(seed)[split]
    readable = known(tokenizer, names, smiles)
    decoded = decode_widths(model, tokenizer.source.encode_batch(readable[0]), MAX_TARGET_LENGTH, beam_widths)
    metrics = {f"{split}_compounds": len(names), f"{split}_compounds_outside_vocabulary": len(names) - len(readable[0])}
    for decoding, results in decoded.items():
        predicted = dict(zip(readable[0], (tokenizer.target.decode(result["ids"]) for result in results)))
        scores = chemistry_scores([predicted.get(name, "") for name in names], smiles)
        metrics |= {f"{split}_{decoding}_{key}": value for key, value in mean_scores(scores).items()}
        if decoding == "greedy":
            for low, high in NAME_BUCKETS:
                rows = [i for i, name in enumerate(names) if low <= len(name) <= high]
                metrics[f"greedy_exact_match_{low}_{high}_name_characters"] = mean_scores(scores, rows)["exact_match"]
    return metrics


def card_extras(model, tokenizer, metrics, folder):
    """Known drugs, beam 4, each marked with the split that holds it."""
    splits = iupac.load_splits(0)
    where = {name: split for split, (names, _) in splits.items() for name in names}
    results = decode_widths(model, tokenizer.source.encode_batch(list(EXAMPLES)), MAX_TARGET_LENGTH, (4,))["beam4"]
    return {"examples": [
        {"source": f"{name} ({where.get(name, 'in no split')})", "translation": tokenizer.target.decode(r["ids"]), "reference": EXAMPLES[name]}
        for name, r in zip(EXAMPLES, results)
    ]}
