import numpy as np

from training.data.fashion_scenes import CELLS, EMPTY, ITEMS
from training.data.scene_questions import COUNTS, KINDS, questions
from training.question_answering import grounding


def layouts(count, seed=0):
    rng = np.random.default_rng(seed)
    rows = np.full((count, 9), EMPTY)
    for row in rows:
        cells = rng.choice(9, rng.integers(2, 4), replace=False)
        row[cells] = rng.integers(0, len(ITEMS), len(cells))
    return rows


def test_every_answer_is_true_of_its_scene_and_the_kinds_are_balanced():
    scenes = layouts(400)
    asked = questions(scenes, 0)
    assert [kind for _, kind, *_ in asked[:4]] == list(KINDS) and len(asked) == 4 * len(scenes)
    for scene, kind, question, answer, cells in asked:
        layout = scenes[scene]
        if kind == "what":
            (cell,) = cells
            assert CELLS[cell] in question and answer == ("nothing" if layout[cell] == EMPTY else ITEMS[layout[cell]])
        elif kind == "where":
            assert answer == CELLS[cells[0]] and ITEMS[layout[cells[0]]] in question
        elif kind == "count":
            assert answer == COUNTS[len(cells)] and all(layout[cell] == layout[cells[0]] for cell in cells)
        else:
            assert answer == ("yes" if cells else "no")
    for kind, frequent in (("what", "nothing"), ("count", "none"), ("exists", "no")):
        share = np.mean([answer == frequent for _, asked_kind, _, answer, _ in asked if asked_kind == kind])
        assert 0.4 < share < 0.6, (kind, share)


def test_grounding_scores_the_first_answer_step_on_the_cells_asked_about():
    on_centre = np.zeros((2, 36))
    on_centre[0, [14, 15, 20, 21]] = 0.25  # the centre cell's 2x2 block of the 6x6 grid
    results = [{"attention": on_centre}, {"attention": np.full((2, 36), 1 / 36)}]
    metrics = grounding(results, ["what", "what"], [[4], [8]])
    assert metrics["grounding_what_mass"] == round((1 + 1 / 9) / 2, 4) and metrics["grounding_what_top_cell"] == 0.5
    assert metrics["grounding_what_uniform"] == round(1 / 9, 4)
