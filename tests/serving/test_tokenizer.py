import pytest

from serving.errors import ZooError
from serving.tokenizer import CharTokenizer, TokenizerPair, WordTokenizer, tokenizer_from_dict


def test_word_tokenizer_round_trips_hyphens_and_commas():
    text = "one hundred and twenty-three billion, four thousand and seven"
    tokenizer = WordTokenizer.fit([text])
    ids = tokenizer.encode(text)
    assert ids[-1] == WordTokenizer.EOS_ID and tokenizer.decode(ids) == text
    assert tokenizer.split("Twenty-One") == ["twenty", "-", "one"]


def test_word_tokenizer_names_unknown_words_and_limits():
    tokenizer = WordTokenizer.fit(["one two"])
    with pytest.raises(ZooError, match="'three'"):
        tokenizer.encode("one three")
    with pytest.raises(ZooError, match="empty"):
        tokenizer.encode("   ")
    with pytest.raises(ZooError, match="maximum"):
        tokenizer.encode("one two one", max_length=3)


def test_tokenizers_serialise_to_plain_json():
    pair = TokenizerPair(WordTokenizer(["a", "b"]), WordTokenizer(["c"]))
    restored = tokenizer_from_dict(pair.to_dict())
    assert restored.source.words == ["a", "b"] and restored.target.words == ["c"]
    chars = tokenizer_from_dict(CharTokenizer("xy", labels=["p", "q"]).to_dict())
    assert chars.chars == ["x", "y"] and chars.labels == ["p", "q"]
    assert list(chars.encode_batch(["x", "yx"])[0]) == [1, 0]
