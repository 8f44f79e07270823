from training.data import shakespeare, surnames
from tests.conftest import once


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
