import numpy as np

from training.captioning import grounding, phrase_steps
from training.data.fashion_scenes import EMPTY
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
