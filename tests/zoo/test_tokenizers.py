import json

import pytest

from zoo.core.errors import ZooError
from zoo.core.tokenizers import PAD_ID, CharTokenizer, SubwordTokenizer, SymbolTokenizer, TokenizerPair, WordTokenizer, tokenizer_from_dict


def test_word_tokenizer_round_trips_hyphens_and_commas():
    text = "one hundred and twenty-three billion, four thousand and seven"
    tokenizer = WordTokenizer.fit([text])
    ids = tokenizer.encode(text)
    assert ids[-1] == WordTokenizer.EOS_ID and tokenizer.decode(ids) == text
    assert tokenizer.split("Twenty-One") == ["twenty", "-", "one"]


def test_word_tokenizer_joins_pairs_its_texts_always_hyphenate():
    tokenizer = tokenizer_from_dict(json.loads(json.dumps(WordTokenizer.fit(["seventy-one million", "one million", "twenty-one", "twenty one-thousandths"]).to_dict())))
    assert tokenizer.hyphenated == {("seventy", "one"), ("one", "thousandths")}  # "twenty one" was written apart once
    assert list(tokenizer.encode("Seventy one million")) == list(tokenizer.encode("seventy-one million"))
    assert tokenizer.tokens(tokenizer.encode("twenty one"))[:2] == ["twenty", "one"]
    with pytest.raises(ZooError, match="malformed word tokenizer"):
        tokenizer_from_dict({"type": "word", "words": ["a"], "hyphenated": [1]})


def test_shipped_numbers_vocabulary_reads_compound_numbers_written_apart():
    from zoo.presets import Preset

    source = Preset("attention_en_fr_numbers").tokenizer.source
    assert list(source.encode("nine hundred and ninety nine")) == list(source.encode("nine hundred and ninety-nine"))


def test_word_tokenizer_names_unknown_words_and_limits():
    tokenizer = WordTokenizer.fit(["one two"])
    with pytest.raises(ZooError, match="'three'"):
        tokenizer.encode("one three")
    with pytest.raises(ZooError, match="empty"):
        tokenizer.encode("   ")
    with pytest.raises(ZooError, match="maximum"):
        tokenizer.encode("one two one", max_length=3)


def test_symbol_tokenizers_read_smiles_atoms_and_name_characters_and_refuse_what_they_lack():
    smiles = SymbolTokenizer.fit(["CC(=O)Oc1ccccc1C(=O)O", "C[Si](Cl)(Br)c1cc[nH]c1%10"], "smiles")
    ids = smiles.encode("OC(=O)c1ccccc1Br")
    assert smiles.tokens(ids) == ["O", "C", "(", "=", "O", ")", "c", "1", "c", "c", "c", "c", "c", "1", "Br", "</s>"]
    assert smiles.decode(ids) == "OC(=O)c1ccccc1Br" and {"[Si]", "[nH]", "Cl", "%10"} <= set(smiles.words)
    with pytest.raises(ZooError, match="unknown symbols '@'"):  # punctuation too: "C@" must not quietly become "C"
        smiles.encode("C@C")
    names = tokenizer_from_dict(json.loads(json.dumps(SymbolTokenizer.fit(["2-acetyloxybenzoic acid"], "lowercase_characters").to_dict())))
    assert names.decode(names.encode("2-Acetyloxybenzoic Acid")) == "2-acetyloxybenzoic acid"
    with pytest.raises(ZooError, match="'{'"):
        names.encode("2-acetyl{")


def test_tokenizers_serialise_to_plain_json():
    pair = TokenizerPair(WordTokenizer(["a", "b"]), WordTokenizer(["c"]))
    restored = tokenizer_from_dict(pair.to_dict())
    assert restored.source.words == ["a", "b"] and restored.target.words == ["c"]
    chars = tokenizer_from_dict(CharTokenizer("xy", labels=["p", "q"]).to_dict())
    assert chars.chars == ["x", "y"] and chars.labels == ["p", "q"]
    assert list(chars.encode_batch(["x", "yx"])[0]) == [1, 0]


@pytest.fixture(scope="module")
def subwords():
    from training.data import bible

    return SubwordTokenizer.fit(bible.load_splits()["train"][0][:3000], vocab_size=600)


def test_subword_tokenizer_round_trips_text_and_keeps_the_special_ids(subwords):
    text = "In the beginning, God created the heavens and the earth."
    ids = subwords.encode(text)
    assert subwords.vocab_size == 600 and ids[-1] == SubwordTokenizer.EOS_ID
    assert PAD_ID not in ids and SubwordTokenizer.BOS_ID not in ids and SubwordTokenizer.UNK_ID not in ids
    assert subwords.decode(ids) == text and subwords.tokens(ids)[-1] == "</s>"
    restored = tokenizer_from_dict(json.loads(json.dumps(subwords.to_dict())))
    assert list(restored.encode(text)) == list(ids)


def test_subword_tokenizer_maps_unknown_characters_and_refuses_bad_text(subwords):
    assert SubwordTokenizer.UNK_ID in subwords.encode("God \u03bb")
    with pytest.raises(ZooError, match="empty"):
        subwords.encode("  ")
    with pytest.raises(ZooError, match="maximum"):
        subwords.encode("the earth " * 20, max_length=10)


def test_punctuation_the_vocabulary_lacks_is_dropped_and_anything_else_unknown_is_named():
    words = WordTokenizer.fit(["one thousand and one", "twenty-one"])
    assert list(words.encode('"One thousand and one."')) == list(words.encode("one thousand and one"))
    assert words.decode(words.encode("Twenty-one!")) == "twenty-one"  # the hyphen is in the vocabulary: kept
    with pytest.raises(ZooError, match="'€'"):
        words.encode("one €")
    chars = CharTokenizer.fit(["Nakamura"])
    assert list(chars.encode("(Nakamura)")) == list(chars.encode("Nakamura"))
    with pytest.raises(ZooError, match="'☃'"):
        chars.encode("Naka☃")
    with pytest.raises(ZooError, match="empty"):
        chars.encode("...")


@pytest.mark.parametrize("data", [None, [], {"type": "bpe"}, {"type": "word"}, {"type": "pair", "source": {"type": "word", "words": ["a"]}}])
def test_a_malformed_tokenizer_is_a_one_line_error(data):
    with pytest.raises(ZooError, match="tokenizer"):
        tokenizer_from_dict(data)
