"""SCAN (Lake and Baroni 2018): navigation commands and their action sequences, every command of the grammar
generated here ("jump twice after walk left" -> "LTURN WALK JUMP JUMP").

    C -> S and S | S after S | S        S -> V twice | V thrice | V
    V -> D opposite D' | D around D' | D | U      (D' a direction: left or right)
    D -> U left | U right | turn left | turn right      U -> walk | look | run | jump
"""
import itertools

import numpy as np

ACTIONS = {"walk": ["WALK"], "look": ["LOOK"], "run": ["RUN"], "jump": ["JUMP"], "turn": []}
TURNS = {"left": "LTURN", "right": "RTURN"}
REPEATS = {"twice": 2, "thrice": 3}
RANDOM_TEST_SHARE = 0.2  # SCAN's simple split: 80% of the commands train, 20% test
LENGTH_SPLIT = 22  # SCAN's length split: commands of at most 22 actions train, the longer ones (24-48) test
VALIDATION_SIZE = 500  # drawn from the training commands


def verbs():
    """(words, actions) of every V."""
    for verb, turn in itertools.product(ACTIONS, TURNS):
        act, lturn = ACTIONS[verb], [TURNS[turn]]
        yield f"{verb} {turn}", lturn + act
        yield f"{verb} opposite {turn}", 2 * lturn + act
        yield f"{verb} around {turn}", 4 * (lturn + act)
    for verb in ACTIONS.keys() - {"turn"}:
        yield verb, ACTIONS[verb]


def phrases():
    """(words, actions) of every S."""
    for words, actions in verbs():
        yield words, actions
        for repeat, times in REPEATS.items():
            yield f"{words} {repeat}", times * actions


def commands():
    """Every (command, actions) pair of the grammar, in a fixed order: 20,910 of them."""
    singles = list(phrases())
    pairs = list(singles)
    for (first, first_actions), (second, second_actions) in itertools.product(singles, repeat=2):
        pairs.append((f"{first} and {second}", first_actions + second_actions))
        pairs.append((f"{first} after {second}", second_actions + first_actions))
    return [(command, " ".join(actions)) for command, actions in pairs]


def load_splits(split, seed=0):
    """{"train", "validation", "test"} -> (commands, action strings) of the `random` or the `length` split."""
    pairs = commands()
    order = np.random.default_rng(seed).permutation(len(pairs))
    if split == "random":
        test_count = round(RANDOM_TEST_SHARE * len(pairs))
        test, train = order[:test_count], order[test_count:]
    elif split == "length":
        long = np.array([len(pairs[i][1].split()) > LENGTH_SPLIT for i in order])
        test, train = order[long], order[~long]
    else:
        raise ValueError(f"unknown SCAN split {split!r}: random or length")
    splits = {"train": train[VALIDATION_SIZE:], "validation": train[:VALIDATION_SIZE], "test": np.sort(test)}
    return {name: tuple(map(list, zip(*(pairs[i] for i in indices)))) for name, indices in splits.items()}
