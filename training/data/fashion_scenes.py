"""Captioned scenes composed from Fashion-MNIST items (Debian package `dataset-fashion-mnist`).

No captioned image set installs offline, so each scene places 2-3 real 28x28 items in distinct cells
of a 3x3 grid (84x84 pixels) and its caption names every item and its cell, in reading order:
"an ankle boot at the centre and a dress at the bottom left". Knowing the cells lets attention be
scored against the truth. Training scenes use the training images only, test scenes the test images.
"""
import gzip
import os
from pathlib import Path

import numpy as np

FOLDERS = (Path("/usr/share/datasets/fashion-mnist"), Path.home() / ".keras" / "datasets" / "fashion-mnist")
ITEMS = ("t-shirt", "pair of trousers", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot")
CELLS = ("top left", "top", "top right", "left", "centre", "right", "bottom left", "bottom", "bottom right")
CELL_PIXELS, GRID = 28, 3
SCENE_PIXELS = CELL_PIXELS * GRID
EMPTY = -1


def data_folder():
    """The first folder holding the IDX files: $FASHION_MNIST_DIR if set, else the Debian and Keras locations."""
    folders = [Path(os.environ["FASHION_MNIST_DIR"])] if os.environ.get("FASHION_MNIST_DIR") else FOLDERS
    for folder in folders:
        if (folder / "train-images-idx3-ubyte.gz").is_file():
            return folder
    raise FileNotFoundError(
        f"the Fashion-MNIST files are not in {' or '.join(map(str, folders))}: install the Debian package "
        f"(sudo apt-get install dataset-fashion-mnist), or put its four IDX .gz files in one of those folders"
    )


def read_idx(path):
    with gzip.open(path, "rb") as file:
        data = file.read()
    dimensions = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dimensions)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dimensions).reshape(shape)


def load_items(split):
    """(images (n, 28, 28) uint8, labels (n,)) of the Fashion-MNIST `train` or `test` split."""
    prefix = {"train": "train", "test": "t10k"}[split]
    folder = data_folder()
    return read_idx(folder / f"{prefix}-images-idx3-ubyte.gz"), read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz")


def caption(layout):
    """The caption of a layout (the item class in each of the 9 cells, or EMPTY), items in reading order."""
    phrases = [f"{'an' if ITEMS[item][0] in 'aeiou' else 'a'} {ITEMS[item]} at the {CELLS[cell]}" for cell, item in enumerate(layout) if item != EMPTY]
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]


def draw_layouts(labels, count, rng):
    """(layouts (count, 9) of item classes or EMPTY, the index of the item drawn into each cell or EMPTY) of `count`
    scenes of 2-3 items in distinct cells: what `compose` paints, without the pixels."""
    layouts = np.full((count, GRID * GRID), EMPTY, dtype=np.int64)
    picks = np.full((count, GRID * GRID), EMPTY, dtype=np.int64)
    for layout, pick in zip(layouts, picks):
        cells = rng.choice(GRID * GRID, rng.integers(2, 4), replace=False)
        pick[cells] = rng.integers(0, len(labels), len(cells))
        layout[cells] = labels[pick[cells]]
    return layouts, picks


def compose(images, labels, count, rng):
    """`count` scenes: (pixels (count, 84, 84) uint8, layouts (count, 9) of item classes or EMPTY, captions)."""
    layouts, picks = draw_layouts(labels, count, rng)
    scenes = np.zeros((count, SCENE_PIXELS, SCENE_PIXELS), dtype=np.uint8)
    for scene, pick in zip(scenes, picks):
        for cell in np.flatnonzero(pick != EMPTY):
            row, column = divmod(int(cell), GRID)
            scene[row * CELL_PIXELS : (row + 1) * CELL_PIXELS, column * CELL_PIXELS : (column + 1) * CELL_PIXELS] = images[pick[cell]]
    return scenes, layouts, [caption(layout) for layout in layouts]


def load_splits(seed=0, train_size=192_000, test_size=1_000, validation_size=500):
    """{"train", "validation", "test"} -> (pixels, layouts, captions); validation scenes are composed from training images."""
    train_images, train_labels = load_items("train")
    test_images, test_labels = load_items("test")
    rng = np.random.default_rng(seed)
    return {
        "train": compose(train_images, train_labels, train_size, rng),
        "validation": compose(train_images, train_labels, validation_size, rng),
        "test": compose(test_images, test_labels, test_size, np.random.default_rng([seed, 1])),
    }
