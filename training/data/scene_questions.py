"""Questions about the composed Fashion-MNIST scenes (`fashion_scenes`), each with its answer and the cells it is about.

Four kinds, asked of every scene: "what is at the top left?" (an item, or "nothing"), "where is the sandal?"
(the cell of an item that appears once), "how many bags are there?" ("none" to "three") and "is there a dress?"
("yes" or "no"). Half of the "what" questions ask about an empty cell, and half of the "how many" and "is there"
questions about an item the scene lacks, so that no answer wins by being frequent.
"""
import numpy as np

from training.data.fashion_scenes import CELLS, EMPTY, ITEMS

KINDS = ("what", "where", "count", "exists")
COUNTS = ("none", "one", "two", "three")
PLURALS = ("t-shirts", "pairs of trousers", "pullovers", "dresses", "coats", "sandals", "shirts", "sneakers", "bags", "ankle boots")


def article(item):
    return f"{'an' if ITEMS[item][0] in 'aeiou' else 'a'} {ITEMS[item]}"


def present_or_absent(layout, rng):
    """An item class: one the scene holds or one it lacks, each half the time."""
    held = sorted(set(layout[layout != EMPTY].tolist()))
    lacking = sorted(set(range(len(ITEMS))) - set(held))
    return int(rng.choice(held if rng.random() < 0.5 else lacking))


def ask(kind, layout, rng):
    """(question, answer, cells it is about) of one kind about a scene's layout (9 cells of item classes or EMPTY)."""
    if kind == "what":
        filled = np.flatnonzero(layout != EMPTY)
        cell = int(rng.choice(filled if rng.random() < 0.5 else np.flatnonzero(layout == EMPTY)))
        return f"what is at the {CELLS[cell]}?", "nothing" if layout[cell] == EMPTY else ITEMS[layout[cell]], [cell]
    if kind == "where":
        items, counts = np.unique(layout[layout != EMPTY], return_counts=True)
        item = int(rng.choice(items[counts == 1] if (counts == 1).any() else items))
        cell = int(np.flatnonzero(layout == item)[0])
        return f"where is the {ITEMS[item]}?", CELLS[cell], [cell]
    item = present_or_absent(layout, rng)
    cells = np.flatnonzero(layout == item).tolist()
    if kind == "count":
        return f"how many {PLURALS[item]} are there?", COUNTS[len(cells)], cells
    return f"is there {article(item)}?", "yes" if cells else "no", cells


def questions(layouts, seed):
    """One question of each kind per scene: (scene index, kind, question, answer, cells) rows, scene by scene."""
    rng = np.random.default_rng(seed)
    return [(scene, kind, *ask(kind, layout, rng)) for scene, layout in enumerate(layouts) for kind in KINDS]
