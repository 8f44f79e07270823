"""Grid worlds for Show, attend and interact (Qureshi et al. 2017): a 6x6 world drawn as an 84x84 grey image
(walls, the agent, the goal), and the moves of the shortest path from the agent to the goal, found by BFS.

One world cell is 14 pixels, one position of the captioner's 6x6 attention grid, so attention can be scored
against the agent, the goal and the walls exactly.
"""
from collections import deque

import numpy as np

GRID, CELL_PIXELS = 6, 14
WORLD_PIXELS = GRID * CELL_PIXELS
# Where ties between shortest paths are broken, the earlier move wins: each world has one path to learn.
MOVES = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
FREE, WALL, AGENT, GOAL = 0, 1, 2, 3
WALL_SHARE = 0.25
GREY = {WALL: 96, AGENT: 255, GOAL: 176}


def distances_to(walls, goal):
    """BFS steps from every free cell to `goal` (-1 where it cannot be reached)."""
    distance = np.full((GRID, GRID), -1)
    distance[goal] = 0
    queue = deque([goal])
    while queue:
        row, column = queue.popleft()
        for d_row, d_column in MOVES.values():
            cell = (row + d_row, column + d_column)
            if 0 <= cell[0] < GRID and 0 <= cell[1] < GRID and not walls[cell] and distance[cell] < 0:
                distance[cell] = distance[row, column] + 1
                queue.append(cell)
    return distance


def shortest_path(walls, agent, goal):
    """The moves of the shortest path, the earliest move of `MOVES` taken wherever several are shortest."""
    distance, cell, moves = distances_to(walls, goal), agent, []
    while cell != goal:
        for move, (d_row, d_column) in MOVES.items():
            step = (cell[0] + d_row, cell[1] + d_column)
            if 0 <= step[0] < GRID and 0 <= step[1] < GRID and distance[step] == distance[cell] - 1 and distance[step] >= 0:
                moves.append(move)
                cell = step
                break
    return moves


def execute(layout, moves):
    """Runs `moves` from the agent in the world `layout` (GRID x GRID of FREE/WALL/AGENT/GOAL): whether it ends on the
    goal without leaving the grid or entering a wall, and the cells it visits (the start included)."""
    cell = tuple(int(i) for i in np.argwhere(layout == AGENT)[0])
    visited = [cell]
    for move in moves:
        d_row, d_column = MOVES.get(move, (GRID, GRID))
        cell = (cell[0] + d_row, cell[1] + d_column)
        if not (0 <= cell[0] < GRID and 0 <= cell[1] < GRID) or layout[cell] == WALL:
            return False, visited
        visited.append(cell)
    return layout[cell] == GOAL, visited


def draw(layout):
    """The 84x84 grey image of a world: grey walls, the agent a bright disk, the goal a ring-like square."""
    image = np.zeros((WORLD_PIXELS, WORLD_PIXELS), np.uint8)
    y, x = np.mgrid[:CELL_PIXELS, :CELL_PIXELS] - (CELL_PIXELS - 1) / 2
    shapes = {WALL: np.ones((CELL_PIXELS, CELL_PIXELS), bool), AGENT: x**2 + y**2 <= 25, GOAL: (np.maximum(abs(x), abs(y)) <= 5.5) & (np.maximum(abs(x), abs(y)) >= 3.5)}
    for (row, column), kind in np.ndenumerate(layout):
        if kind != FREE:
            block = image[row * CELL_PIXELS : (row + 1) * CELL_PIXELS, column * CELL_PIXELS : (column + 1) * CELL_PIXELS]
            block[shapes[kind]] = GREY[kind]
    return image


def world(rng):
    """A random world whose goal the agent can reach: (layout, moves)."""
    while True:
        walls = rng.random((GRID, GRID)) < WALL_SHARE
        free = np.argwhere(~walls)
        if len(free) < 2:
            continue
        agent, goal = (tuple(int(i) for i in free[j]) for j in rng.choice(len(free), 2, replace=False))
        if distances_to(walls, goal)[agent] > 0:
            layout = walls.astype(np.int64)
            layout[agent], layout[goal] = AGENT, GOAL
            return layout, shortest_path(walls, agent, goal)


def worlds(count, rng, excluded=frozenset()):
    """`count` distinct worlds not in `excluded` (layout bytes): (images, layouts, move strings)."""
    layouts, paths, seen = [], [], set(excluded)
    while len(layouts) < count:
        layout, moves = world(rng)
        if layout.tobytes() not in seen:
            seen.add(layout.tobytes())
            layouts.append(layout)
            paths.append(" ".join(moves))
    return np.stack([draw(layout) for layout in layouts]), np.stack(layouts), paths


def load_splits(seed=0, train_size=120_000, test_size=1_000, validation_size=500):
    """{"train", "validation", "test"} -> (images, layouts, moves); no world is in two splits."""
    test = worlds(test_size, np.random.default_rng([seed, 1]))
    held = {layout.tobytes() for layout in test[1]}
    validation = worlds(validation_size, np.random.default_rng([seed, 2]), held)
    held |= {layout.tobytes() for layout in validation[1]}
    return {"train": worlds(train_size, np.random.default_rng(seed), held) if train_size else None, "validation": validation, "test": test}
