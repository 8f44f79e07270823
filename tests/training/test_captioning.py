import numpy as np

from tests.conftest import assert_one_line_error, once, zoo_cli
from training.captioning import grounding, load_split, phrase_steps
from training.data.fashion_scenes import CELL_PIXELS, EMPTY, GRID, load_items
from zoo.core.tokenizers import WordTokenizer

CAPTION = "an ankle boot at the centre and a dress at the bottom left"


def test_phrase_steps_find_article_item_and_position_words():
    tokens = CAPTION.split() + ["</s>"]
    assert phrase_steps(tokens) == [{"article": 0, "item": 1, "position": 5}, {"article": 7, "item": 8, "position": 11}]


def test_grounding_scores_attention_on_the_true_cells():
    tokenizer = WordTokenizer.fit([CAPTION])
    ids = list(tokenizer.encode(CAPTION)[:-1])
    layout = np.full(9, EMPTY)
    layout[4], layout[6] = 9, 3
    on_cells = np.zeros((len(ids) + 1, 36))
    on_cells[:7, [14, 15, 20, 21]] = 0.25  # the centre cell's 2x2 block of the 6x6 grid
    on_cells[7:, [24, 25, 30, 31]] = 0.25  # the bottom-left cell
    perfect = grounding([{"ids": ids, "attention": on_cells}], [layout], tokenizer)
    assert perfect["grounding_article_mass"] == perfect["grounding_item_top_cell"] == perfect["grounding_position_mass"] == 1.0
    uniform = grounding([{"ids": ids, "attention": np.full((len(ids) + 1, 36), 1 / 36)}], [layout], tokenizer)
    assert uniform["grounding_item_mass"] == uniform["grounding_uniform_baseline"] == round(1 / 9, 4)
    assert uniform["grounding_phrases"] == 2


def test_the_validation_scenes_are_composed_from_training_images():
    scenes, layouts, captions = load_split("validation", 0)
    assert len(scenes) == len(layouts) == len(captions) == 500
    training_images, _ = load_items("train")
    for scene, layout in zip(scenes[:3], layouts[:3]):
        for cell in np.flatnonzero(layout != EMPTY):
            row, column = divmod(int(cell), GRID)
            item = scene[row * CELL_PIXELS : (row + 1) * CELL_PIXELS, column * CELL_PIXELS : (column + 1) * CELL_PIXELS]
            assert (training_images == item).all(axis=(1, 2)).any()


@once
def test_zoo_evaluate_scores_validation_scenes_only_for_the_captioner():
    assert_one_line_error(zoo_cli("evaluate", "walk_instructions", "--validation", check=False), "walk_instructions", "--validation", "scene captioner")
    assert_one_line_error(zoo_cli("evaluate", "sat_fashion_scenes", "--validation", "--sample", check=False), "--sample", "--validation")
