import numpy as np

from training.data.molecule_images import IMAGE_PIXELS, draw
from training.molecule_recognition import CELL_PIXELS, atom_grounding, is_atom
from zoo.core.tokenizers import SymbolTokenizer

ASPIRIN = "OC(=O)c1ccccc1OC(C)=O"  # not canonical: the drawn atoms' order differs from the caption's


def test_drawings_have_ink_at_every_atom_of_the_canonical_caption_in_its_order():
    image, caption, positions = draw(ASPIRIN)
    assert image.shape == (IMAGE_PIXELS, IMAGE_PIXELS) and image.dtype == np.uint8 and caption == "CC(=O)Oc1ccccc1C(=O)O"
    assert len(positions) == sum(is_atom(symbol) for symbol in SymbolTokenizer.fit([caption], "smiles").split(caption)) == 13
    for x, y in positions:
        assert image[int(y) - 3 : int(y) + 4, int(x) - 3 : int(x) + 4].min() < 128  # a bond or a label there
    # The caption's atoms 4-9 are the ring; its first, the methyl carbon, is drawn three bonds away from it.
    ring = positions[4:10]
    radius = np.linalg.norm(ring - ring.mean(axis=0), axis=1).max()
    assert np.linalg.norm(positions[0] - ring.mean(axis=0)) > 2 * radius


def test_atom_grounding_scores_attention_on_each_atom_up_to_the_first_wrong_symbol():
    _, caption, positions = draw(ASPIRIN)
    tokenizer = SymbolTokenizer.fit([caption], "smiles")
    symbols = tokenizer.split(caption)
    on_atoms = np.full((len(symbols) + 1, 100), 0.01)
    for step, atom in enumerate(np.cumsum([is_atom(symbol) for symbol in symbols]) - 1):
        if is_atom(symbols[step]):
            x, y = positions[atom]
            on_atoms[step] = 0
            on_atoms[step, int(y // CELL_PIXELS) * 10 + int(x // CELL_PIXELS)] = 1
    ids = list(tokenizer.encode(caption)[:-1])
    perfect = atom_grounding([{"ids": ids, "attention": on_atoms}], [positions], [caption], tokenizer)
    assert perfect["atom_attention_mass"] == perfect["atom_top_cell"] == 1.0 and perfect["atom_symbols"] == 13
    assert 0 < perfect["atom_attention_uniform"] < 0.1
    wrong = ids[:3] + ids[:1] + ids[4:]  # "CC(C...": wrong from the fourth symbol on
    partial = atom_grounding([{"ids": wrong, "attention": on_atoms}], [positions], [caption], tokenizer)
    assert partial["atom_symbols"] == 0 and partial["prefix_atom_symbols"] == 2
    uniform = atom_grounding([{"ids": ids, "attention": np.full_like(on_atoms, 0.01)}], [positions], [caption], tokenizer)
    assert uniform["atom_attention_mass"] == uniform["atom_attention_uniform"]
