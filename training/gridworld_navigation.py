"""Grid-world navigation as captioning (Show, attend and interact): the image of a world in, the moves of the
shortest path out; scored by executing the moves in the simulator, and by where attention looks at each move."""

import numpy as np

from training.captioning import image_batches, vocabulary_sizes, write_overlay  # noqa: F401 (vocabulary_sizes: task interface)
from training.data import gridworld
from training.scores import decode_widths
from zoo.core.images import pixels
from zoo.core.tokenizers import WordTokenizer

TRAIN_SIZE = 120_000
MAX_LENGTH = 40  # moves, the end token included; no 6x6 world needs more than 35
SAMPLE_SIZE = 200  # the first test worlds: the parity gate's held-out inputs


def prepare(recipe, seed):
    splits = gridworld.load_splits(seed, TRAIN_SIZE)
    tokenizer = WordTokenizer.fit(list(gridworld.MOVES))
    return tokenizer, image_batches(splits, tokenizer, recipe.batch_size, seed)


def held_out_inputs(tokenizer, seed):
    """The first test worlds' images (grey uint8), which the parity gate decodes."""
    return gridworld.load_splits(seed, train_size=0, test_size=SAMPLE_SIZE)["test"][0]


def mean(values):
    return round(float(np.mean(values)), 4) if len(values) else None


def attention_on(results, layouts, tokenizer):
    """Mean attention mass, per emitted move, on the agent's cell before that move, on the goal and on the walls
    (of the greedy paths that succeed), beside what uniform attention would give each."""
    masses = {"agent": [], "goal": [], "walls": []}
    wall_shares, top_agent = [], []
    for result, layout in zip(results, layouts):
        moves = tokenizer.tokens(result["ids"])
        success, visited = gridworld.execute(layout, moves)
        if not success:
            continue
        flat = layout.ravel()
        for step, cell in enumerate(visited[:-1]):
            attention = np.asarray(result["attention"][step], dtype="float64")
            agent = cell[0] * gridworld.GRID + cell[1]
            masses["agent"].append(attention[agent])
            masses["goal"].append(attention[flat == gridworld.GOAL].sum())
            masses["walls"].append(attention[flat == gridworld.WALL].sum())
            top_agent.append(int(np.argmax(attention)) == agent)
            wall_shares.append(float(np.mean(flat == gridworld.WALL)))
    metrics = {f"attention_{key}_mass": mean(values) for key, values in masses.items()}
    # Uniform attention puts 1/36 on any one cell, and on the walls their share of the cells.
    one_cell = round(1 / gridworld.GRID**2, 4) if top_agent else None
    metrics |= {"attention_agent_uniform": one_cell, "attention_goal_uniform": one_cell, "attention_walls_uniform": mean(wall_shares)}
    metrics["attention_agent_top_cell"] = mean(top_agent)
    metrics["attention_moves"] = len(top_agent)
    return metrics


def evaluate(model, tokenizer, seed, split="test", beam_widths=(1, 3)):
    """Success (the moves reach the goal through free cells), optimality (a successful path as short as BFS's) and
    exact match with the BFS path, for greedy and beam decoding; attention on agent, goal and walls when greedy."""
    images, layouts, paths = gridworld.load_splits(seed, train_size=0)[split]
    metrics = {f"{split}_worlds": len(images)}
    for decoding, results in decode_widths(model, pixels(images), MAX_LENGTH, beam_widths).items():
        moves = [tokenizer.tokens(result["ids"]) for result in results]
        success = [gridworld.execute(layout, path)[0] for layout, path in zip(layouts, moves)]
        optimal = [ok and len(path) == len(reference.split()) for ok, path, reference in zip(success, moves, paths)]
        metrics[f"{split}_{decoding}_success"] = round(float(np.mean(success)), 4)
        metrics[f"{split}_{decoding}_optimal"] = round(float(np.mean(optimal)), 4)
        metrics[f"{split}_{decoding}_exact_match"] = round(float(np.mean([" ".join(m) == p for m, p in zip(moves, paths)])), 4)
        if decoding == "greedy":
            metrics.update(attention_on(results, layouts, tokenizer))
    return metrics


def card_extras(model, tokenizer, metrics, folder):
    """Example paths and an attention overlay of the first test world."""
    images, _, paths = gridworld.load_splits(0, train_size=0, test_size=6)["test"]
    results = decode_widths(model, pixels(images), MAX_LENGTH, (1,))["greedy"]
    examples = [{"source": f"test world {i}", "translation": tokenizer.decode(r["ids"]), "reference": paths[i]} for i, r in enumerate(results)]
    return {"examples": examples, "examples_decoding": "greedy", **write_overlay(model, tokenizer, images[0], results[0], folder)}
