"""Chemical structure recognition as captioning (as DECIMER, Img2Mol and MolScribe frame it): an RDKit drawing of a
molecule in, its canonical SMILES out, symbol by symbol; scored by chemistry, and by whether attention looks at each
atom as the decoder writes it."""

import numpy as np

from training.captioning import image_batches, vocabulary_sizes, write_overlay  # noqa: F401 (vocabulary_sizes: task interface)
from training.data import molecule_images
from training.scores import chemistry_scores, decode_widths, mean_scores
from zoo.core.images import pixels
from zoo.core.tokenizers import SymbolTokenizer

TRAIN_SIZE = 100_000
MAX_LENGTH = 70  # SMILES symbols, the end token included; MOSES' longest canonical SMILES has 57 characters
SAMPLE_SIZE = 200  # the first test molecules: the parity gate's held-out inputs
CELL_PIXELS = 14  # one position of the captioner's attention grid
ATOM_RADIUS = 14.0  # pixels, about one drawn bond: attention within it of the atom counts as on the atom
# Known drugs for the card and the README: aspirin, paracetamol, caffeine, ibuprofen.
EXAMPLES = {
    "aspirin": "CC(=O)Oc1ccccc1C(=O)O",
    "paracetamol": "CC(=O)Nc1ccc(O)cc1",
    "caffeine": "Cn1c(=O)c2c(ncn2C)n(C)c1=O",
    "ibuprofen": "CC(C)Cc1ccc(C(C)C(=O)O)cc1",
}


def prepare(recipe, seed):
    splits = molecule_images.load_splits(seed, TRAIN_SIZE)
    tokenizer = SymbolTokenizer.fit(splits["train"][2], "smiles")
    return tokenizer, image_batches(splits, tokenizer, recipe.batch_size, seed)


def held_out_inputs(tokenizer, seed):
    """The first test molecules' drawings (grey uint8), which the parity gate decodes."""
    return molecule_images.load_test(seed, SAMPLE_SIZE)[0]


def is_atom(symbol):
    return symbol[0] == "[" or symbol[0].isalpha()


def atom_grounding(results, positions, captions, tokenizer):
    """Per atom symbol written where the caption so far is right: the attention mass on grid cells whose centre lies
    within `ATOM_RADIUS` of the atom's drawn position, what uniform attention would put there, and whether the top cell
    holds the atom. Reported for the captions that are right throughout (`atom_`) and for the right prefix of every
    caption, up to its first wrong symbol (`prefix_atom_`)."""
    side = int(round(len(results[0]["attention"][0]) ** 0.5)) if results else 0
    centres = (np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), -1).reshape(-1, 2)[:, ::-1] + 0.5) * CELL_PIXELS
    records = {"atom": [], "prefix_atom": []}
    for result, atoms, caption in zip(results, positions, captions):
        written, reference = tokenizer.tokens(result["ids"]), tokenizer.split(caption)
        right = next((t for t, (a, b) in enumerate(zip(written, reference)) if a != b), min(len(written), len(reference)))
        whole = written == reference
        atom = 0
        for step, symbol in enumerate(written[:right]):
            if not is_atom(symbol):
                continue
            attention = np.asarray(result["attention"][step], dtype="float64")
            near = np.linalg.norm(centres - atoms[atom], axis=1) <= ATOM_RADIUS
            cell = int(atoms[atom][1] // CELL_PIXELS) * side + int(atoms[atom][0] // CELL_PIXELS)
            record = (attention[near].sum(), near.mean(), int(np.argmax(attention)) == cell)
            records["prefix_atom"].append(record)
            if whole:
                records["atom"].append(record)
            atom += 1
    metrics = {}
    for name, rows in records.items():
        values = np.array(rows, dtype="float64").reshape(-1, 3)
        metrics |= {
            f"{name}_attention_mass": round(float(values[:, 0].mean()), 4) if len(rows) else None,
            f"{name}_attention_uniform": round(float(values[:, 1].mean()), 4) if len(rows) else None,
            f"{name}_top_cell": round(float(values[:, 2].mean()), 4) if len(rows) else None,
            f"{name}_symbols": len(rows),
        }
    return metrics


def evaluate(model, tokenizer, seed, split="test", beam_widths=(1, 3)):
    """Exact match after canonicalisation, validity and Tanimoto similarity for greedy and beam decoding; atom grounding
    of the greedy captions."""
    images, positions, captions = molecule_images.load_test(seed) if split == "test" else molecule_images.load_splits(seed, 0)[split]
    metrics = {f"{split}_molecules": len(images)}
    for decoding, results in decode_widths(model, pixels(images), MAX_LENGTH, beam_widths).items():
        scores = chemistry_scores([tokenizer.decode(result["ids"]) for result in results], captions)
        metrics |= {f"{split}_{decoding}_{key}": value for key, value in mean_scores(scores).items()}
        if decoding == "greedy":
            metrics |= atom_grounding(results, positions, captions, tokenizer)
    return metrics


def card_extras(model, tokenizer, metrics, folder):
    """Known drugs drawn by RDKit, read greedily, and the attention overlay of the first (aspirin)."""
    images, _, captions = molecule_images.draw_all(list(EXAMPLES.values()))
    results = decode_widths(model, pixels(images), MAX_LENGTH, (1,))["greedy"]
    examples = [{"source": f"{name} drawn by RDKit", "translation": tokenizer.decode(r["ids"]), "reference": caption} for name, r, caption in zip(EXAMPLES, results, captions)]
    return {"examples": examples, "examples_decoding": "greedy", **write_overlay(model, tokenizer, images[0], results[0], folder)}
