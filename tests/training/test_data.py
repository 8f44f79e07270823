import numpy as np

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


@once
def test_scan_generates_the_whole_grammar_and_splits_it_like_scan():
    from training.data import scan

    pairs = dict(scan.commands())
    assert len(pairs) == 20_910
    assert pairs["jump twice after walk left"] == "LTURN WALK JUMP JUMP"
    assert pairs["turn around right"] == "RTURN RTURN RTURN RTURN"
    assert pairs["look opposite left thrice"] == " ".join(3 * ["LTURN", "LTURN", "LOOK"])
    random, length = scan.load_splits("random"), scan.load_splits("length")
    assert len(random["test"][0]) == 4_182 and not set(random["test"][0]) & set(random["train"][0] + random["validation"][0])
    assert len(length["test"][0]) == 3_920
    assert max(len(actions.split()) for actions in length["train"][1]) == 22 and min(len(actions.split()) for actions in length["test"][1]) == 24
    assert scan.load_splits("random")["test"] == random["test"]


@once
def test_moses_is_read_from_the_wheel_with_a_disjoint_validation_split():
    from training.data import moses

    test = moses.read("test")
    assert len(test) == 176_074 and all(smiles and " " not in smiles for smiles in test[:1000])
    splits = moses.load_splits(seed=0)
    assert len(splits["validation"]) == moses.VALIDATION_SIZE and len(splits["train"]) == 1_584_663 - moses.VALIDATION_SIZE


@once
def test_grid_worlds_have_bfs_paths_that_the_simulator_executes_and_no_world_in_two_splits():
    from training.data import gridworld

    splits = gridworld.load_splits(seed=0, train_size=2_000)
    images, layouts, paths = splits["train"]
    assert images.shape == (2_000, 84, 84) and images.dtype == np.uint8
    for layout, path in zip(layouts[:200], paths[:200]):
        walls = layout == gridworld.WALL
        agent, goal = (tuple(np.argwhere(layout == kind)[0]) for kind in (gridworld.AGENT, gridworld.GOAL))
        assert len(path.split()) == gridworld.distances_to(walls, goal)[agent] and gridworld.execute(layout, path.split())[0]
        assert not gridworld.execute(layout, path.split()[:-1])[0]
    layout = np.zeros((6, 6), np.int64)
    layout[0, 0], layout[0, 2], layout[0, 1] = gridworld.AGENT, gridworld.GOAL, gridworld.WALL
    assert gridworld.shortest_path(layout == gridworld.WALL, (0, 0), (0, 2)) == ["down", "right", "right", "up"]
    assert gridworld.execute(layout, ["right", "right"]) == (False, [(0, 0)]) and not gridworld.execute(layout, ["up"])[0]
    seen = [{layout.tobytes() for layout in split[1]} for split in splits.values()]
    assert not seen[0] & seen[1] and not seen[0] & seen[2] and not seen[1] & seen[2]
