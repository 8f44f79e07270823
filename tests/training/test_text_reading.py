import numpy as np

from training.data import text_lines
from training.text_reading import CELL_PIXELS, character_grounding, edit_distance, reading_scores
from zoo.core.tokenizers import SymbolTokenizer


def test_test_lines_use_held_out_words_in_a_held_out_face_and_ink_lies_in_each_letters_extent():
    words = text_lines.words()
    assert not set(words["train"]) & set(words["test"]) and 0.05 < len(words["test"]) / len(words["train"]) < 0.15
    images, extents, lines = text_lines.load_test(0, 20)
    assert images.shape == (20, 28, 336) and all(set(line.split()) <= set(words["test"]) for line in lines)
    assert text_lines.TEST_FONT not in text_lines.TRAIN_FONTS
    for image, extent, line in zip(images, extents, lines):
        assert len(extent) == len(line) <= text_lines.MAX_CHARACTERS
        ink = image < (np.median(image) + image.min()) / 2  # darker than halfway from paper to ink
        columns = np.flatnonzero(ink.sum(axis=0) >= 2)  # two pixels: not a noise speck
        assert extent[0][0] - 2 <= columns.min() and columns.max() <= extent[-1][1] + 2
        for (start, end), letter in zip(extent, line):
            if letter != " ":
                assert ink[:, int(start) : int(np.ceil(end)) + 1].sum() >= 2, (line, letter)


def test_reading_scores_count_character_and_word_errors():
    assert edit_distance("kitten", "sitting") == 3 and edit_distance([], ["a"]) == 1
    scores = reading_scores(["to be or not", "the tempest"], ["to be or not", "the tempests"])
    assert scores["character_error_rate"] == round(1 / 24, 4) and scores["exact_match"] == 0.5
    assert scores["word_error_rate"] == round(1 / 6, 4) and scores["word_accuracy"] == round(5 / 6, 4)


def test_character_grounding_scores_attention_in_each_letters_columns_up_to_the_first_wrong_letter():
    line = "ab cd"
    extents = np.array([[3, 12], [12, 30], [30, 35], [35, 44], [44, 60]], dtype="float32")
    tokenizer = SymbolTokenizer.fit([line], "lowercase_characters")
    on_letters = np.zeros((len(line) + 1, 2, 24))
    for step, (start, _) in enumerate(extents):
        on_letters[step, 1, int(start // CELL_PIXELS)] = 1
    ids = list(tokenizer.encode(line)[:-1])
    perfect = character_grounding([{"ids": ids, "attention": on_letters}], [extents], [line], tokenizer)
    assert perfect["character_attention_mass"] == perfect["character_top_cell"] == 1.0 and perfect["character_letters"] == 4
    assert perfect["character_attention_uniform"] == round(np.mean([1, 3, 2, 2]) / 24, 4)  # columns of 14 pixels each letter touches
    wrong = ids[:1] + ids[:1] + ids[2:]  # "aa cd": wrong from the second letter on
    assert character_grounding([{"ids": wrong, "attention": on_letters}], [extents], [line], tokenizer)["character_letters"] == 1
    uniform = character_grounding([{"ids": ids, "attention": np.full_like(on_letters, 1 / 48)}], [extents], [line], tokenizer)
    assert uniform["character_attention_mass"] == uniform["character_attention_uniform"]
