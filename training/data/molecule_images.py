"""MOSES molecules drawn by RDKit (grey, 140x140), captioned with their canonical SMILES, and each SMILES atom's drawn
position (RDKit's `_smilesAtomOutputOrder` maps the k-th atom written in the SMILES to the drawn atom).

Training and validation molecules come from MOSES' training file, test molecules from `test_scaffolds`, whose
Bemis-Murcko scaffolds are never in the training file.
"""
import io

import numpy as np

from training.data import moses
from zoo.core.molecules import rdkit_chem

IMAGE_PIXELS = 140
VALIDATION_SIZE, TEST_SIZE = 1_000, 1_000


def draw(smiles):
    """(grey uint8 image, canonical SMILES, (atoms, 2) pixel x, y of each atom in SMILES order) of one molecule."""
    from PIL import Image
    from rdkit.Chem.Draw import rdMolDraw2D

    Chem = rdkit_chem()
    molecule = Chem.MolFromSmiles(smiles)
    caption = Chem.MolToSmiles(molecule)
    order = molecule.GetPropsAsDict(True, True)["_smilesAtomOutputOrder"]
    drawer = rdMolDraw2D.MolDraw2DCairo(IMAGE_PIXELS, IMAGE_PIXELS)
    options = drawer.drawOptions()
    # Black on white with thin bonds and labels no smaller than 9 px: legible at 140 px for MOSES' 250-350 Da.
    options.useBWAtomPalette()
    options.minFontSize, options.padding, options.bondLineWidth = 9, 0.03, 1
    drawer.DrawMolecule(molecule)
    drawer.FinishDrawing()
    image = np.asarray(Image.open(io.BytesIO(drawer.GetDrawingText())).convert("L"))
    positions = np.array([[drawer.GetDrawCoords(atom).x, drawer.GetDrawCoords(atom).y] for atom in order], dtype="float32")
    return image, caption, positions


def draw_all(smiles):
    """(images (n, 140, 140) uint8, atom positions, captions) of `smiles`."""
    drawn = [draw(one) for one in smiles]
    images = np.stack([image for image, _, _ in drawn]) if drawn else np.zeros((0, IMAGE_PIXELS, IMAGE_PIXELS), "uint8")
    return images, [positions for _, _, positions in drawn], [caption for _, caption, _ in drawn]


def load_test(seed, size=TEST_SIZE):
    """(images, atom positions, captions) of `size` molecules of MOSES' `test_scaffolds` file drawn by `seed`."""
    test = moses.read("test_scaffolds")
    return draw_all([test[i] for i in np.sort(np.random.default_rng(seed).choice(len(test), size, replace=False))])


def load_splits(seed, train_size):
    """{"train", "validation", "test"}: (images, atom positions, captions), the molecules drawn by `seed`."""
    train = moses.read("train")
    picked = np.random.default_rng(seed).choice(len(train), train_size + VALIDATION_SIZE, replace=False)
    return {
        "train": draw_all([train[i] for i in picked[:train_size]]),
        "validation": draw_all([train[i] for i in picked[train_size:]]),
        "test": load_test(seed),
    }
