"""MOSES (ZINC Clean Leads) SMILES, read from the files of the `molsets` wheel without importing it (its import
pulls torch and broken pins): `pip install --no-deps molsets==0.3.1`, which `make install` runs."""
import gzip
import importlib.metadata

import numpy as np

VALIDATION_SIZE = 10_000


def read(split):
    """The SMILES of MOSES' `train`, `test` or `test_scaffolds` file, in file order."""
    try:
        path = importlib.metadata.distribution("molsets").locate_file(f"moses/dataset/data/{split}.csv.gz")
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError("the MOSES data needs the package `molsets`: pip install --no-deps molsets==0.3.1") from None
    with gzip.open(path, "rt") as file:
        next(file)  # the header, SMILES
        return [line.strip() for line in file]


def load_splits(seed=0):
    """{"train", "validation", "test"}: MOSES' training file less `VALIDATION_SIZE` molecules drawn by `seed`, and
    its test file."""
    train = read("train")
    held = set(np.random.default_rng(seed).choice(len(train), VALIDATION_SIZE, replace=False).tolist())
    return {
        "train": [smiles for i, smiles in enumerate(train) if i not in held],
        "validation": [train[i] for i in sorted(held)],
        "test": read("test"),
    }
