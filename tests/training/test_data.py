from tests.conftest import once
from training.data import shakespeare, surnames


@once
def test_shakespeare_holds_out_whole_plays():
    splits = shakespeare.load_splits()
    assert len(splits["train"]) > 4_000_000 and len(splits["test"]) > 300_000 and len(splits["validation"]) > 100_000
    # A line that opens a held-out play appears in no other split.
    assert "O for a Muse of fire" in splits["test"] and "O for a Muse of fire" not in splits["train"]
    assert "If music be the food of love" in splits["validation"] and "If music be the food of love" not in splits["train"]


@once
def test_shakespeare_cleaning_keeps_speakers_and_drops_markup():
    text = shakespeare.clean_play("# Play\n\n_Enter BERNARDO_\n\n**BERNARDO**  \nWho's there?  \nStand.\n")
    assert text == "BERNARDO:\nWho's there?\nStand.\n\n"


@once
def test_surname_split_is_stratified_disjoint_and_deterministic():
    splits = surnames.load_splits(seed=0)
    train, test = set(splits["train"][0]), set(splits["test"][0])
    assert not train & test and not train & set(splits["validation"][0])
    assert set(splits["test"][1]) == set(range(len(surnames.LOCALES)))
    assert surnames.load_splits(seed=0)["test"][0] == splits["test"][0]


@once
def test_number_test_set_is_unseen_and_covers_every_digit_count():
    from training.data import numbers

    splits = numbers.load_splits(seed=0, train_size=20_000)
    test = set(splits["test"][0])
    assert len(test) >= 2000 and not test & set(splits["train"][0]) and not test & set(splits["validation"][0])
    assert {len(str(n)) for n in test} == set(range(1, 13))


@once
def test_bible_holds_out_whole_books():
    from training.data import bible

    splits = bible.load_splits()
    assert [len(splits[name][0]) for name in ("train", "validation", "test")] == [30_341, 144, 617]
    assert all(len(english) == len(french) for english, french in splits.values())
    # Ruth 1:1 in the test split, in both languages; the split depends on the book only.
    assert splits["test"][0][0].startswith("It happened in the days when the judges judged")
    assert splits["test"][1][0].startswith("Du temps des juges")
    assert "Jesus wept." in splits["train"][0]


def test_scene_captions_name_items_and_cells_in_reading_order():
    from training.data.fashion_scenes import EMPTY, caption

    layout = [EMPTY] * 9
    layout[4], layout[6] = 9, 3  # ankle boot at the centre, dress at the bottom left
    assert caption(layout) == "an ankle boot at the centre and a dress at the bottom left"
    layout[0] = 1
    assert caption(layout) == "a pair of trousers at the top left, an ankle boot at the centre and a dress at the bottom left"


def test_shipped_scene_sample_matches_its_captions():
    from training.captioning import load_split
    from training.data.fashion_scenes import CELL_PIXELS, EMPTY, caption

    scenes, layouts, captions = load_split("sample", 0)
    assert scenes.shape == (200, 84, 84) and [caption(layout) for layout in layouts] == captions
    for scene, layout in zip(scenes[:20], layouts[:20]):
        for cell, item in enumerate(layout):
            row, column = divmod(cell, 3)
            patch = scene[row * CELL_PIXELS : (row + 1) * CELL_PIXELS, column * CELL_PIXELS : (column + 1) * CELL_PIXELS]
            assert (patch.max() > 0) == (item != EMPTY)
