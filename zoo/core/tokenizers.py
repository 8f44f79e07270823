"""Character, word, symbol and subword vocabularies (numpy and SentencePiece, no Keras), shared by training and serving.

Punctuation a vocabulary lacks is dropped (a full stop after a number, quotes around a name); any other
unknown character or word is an error that names it.
"""
import base64
import io
import json
import re
import unicodedata

import numpy as np

from zoo.core.errors import ZooError

PAD_ID, BOS_ID, EOS_ID = 0, 1, 2


def is_punctuation(text):
    return all(unicodedata.category(char).startswith("P") for char in text)


class CharTokenizer:
    """Id 0 is padding; characters take ids 1..N in the order given. `labels` names a classifier's classes."""

    def __init__(self, chars, labels=None):
        self.chars = list(chars)
        self.labels = list(labels) if labels is not None else None
        self._ids = {char: i + 1 for i, char in enumerate(self.chars)}

    @classmethod
    def fit(cls, texts, labels=None):
        return cls(sorted(set("".join(texts))), labels)

    @property
    def vocab_size(self):
        return len(self.chars) + 1

    def encode(self, text, max_length=None):
        text = "".join(char for char in text if char in self._ids or not is_punctuation(char))
        if not text:
            raise ZooError("empty text: give at least one character")
        if max_length is not None and len(text) > max_length:
            raise ZooError(f"text of {len(text)} characters is longer than the maximum of {max_length}")
        unknown = sorted(set(text) - self._ids.keys())
        if unknown:
            raise ZooError(f"unknown characters {', '.join(map(repr, unknown))}: not in the {len(self.chars)}-character vocabulary")
        return np.array([self._ids[char] for char in text], dtype="int32")

    def encode_batch(self, texts, max_length=None):
        return pad_batch([self.encode(text, max_length) for text in texts])

    def decode(self, ids):
        return "".join(self.chars[i - 1] for i in ids if i != PAD_ID)

    def to_dict(self):
        return {"type": "char", "chars": self.chars, "labels": self.labels}

    @classmethod
    def from_dict(cls, data):
        return cls(data["chars"], data.get("labels"))



class WordTokenizer:
    """Lower-cased words, and each punctuation mark, as tokens. Ids: 0 padding, 1 start, 2 end, then the words in the order given.

    Word pairs that the training texts always join with a hyphen ("seventy-one", "t-shirt") are joined when a user
    writes them apart, so that "seventy one" reads as the model learnt it rather than as a sequence it never saw.
    """

    SPECIALS = ("<pad>", "<s>", "</s>")
    BOS_ID, EOS_ID = BOS_ID, EOS_ID
    HYPHEN = "-"
    _TOKEN = re.compile(r"\w+|[^\w\s]")

    def __init__(self, words, hyphenated=()):
        self.words = list(words)
        self.hyphenated = {tuple(pair) for pair in hyphenated}  # ("seventy", "one")
        self._ids = {word: i + len(self.SPECIALS) for i, word in enumerate(self.words)}

    @classmethod
    def fit(cls, texts):
        tokenized = [cls.split(text) for text in texts]
        joined = {(a, c) for tokens in tokenized for a, b, c in zip(tokens, tokens[1:], tokens[2:]) if b == cls.HYPHEN}
        apart = {pair for tokens in tokenized for pair in zip(tokens, tokens[1:])}
        return cls(sorted({token for tokens in tokenized for token in tokens}), joined - apart)

    @classmethod
    def split(cls, text):
        return cls._TOKEN.findall(text.lower())

    @property
    def vocab_size(self):
        return len(self.words) + len(self.SPECIALS)

    UNIT = "word"
    DROPS_UNKNOWN_PUNCTUATION = True

    def encode(self, text, max_length=None):
        """Ids of the words of `text` followed by the end id."""
        tokens = [token for token in self.split(text) if token in self._ids or not (self.DROPS_UNKNOWN_PUNCTUATION and is_punctuation(token))]
        tokens = self.join_hyphenated(tokens)
        if not tokens:
            raise ZooError(f"empty text: give at least one {self.UNIT}")
        if max_length is not None and len(tokens) + 1 > max_length:
            raise ZooError(f"text of {len(tokens)} tokens is longer than the maximum of {max_length - 1}")
        unknown = sorted(set(tokens) - self._ids.keys())
        if unknown:
            raise ZooError(f"unknown {self.UNIT}s {', '.join(map(repr, unknown))}: not in the {len(self.words)}-{self.UNIT} vocabulary")
        return np.array([self._ids[token] for token in tokens] + [self.EOS_ID], dtype="int32")

    def join_hyphenated(self, tokens):
        joined = tokens[:1]
        for token in tokens[1:]:
            if (joined[-1], token) in self.hyphenated:
                joined.append(self.HYPHEN)
            joined.append(token)
        return joined

    def encode_batch(self, texts, max_length=None):
        return pad_batch([self.encode(text, max_length) for text in texts])

    def tokens(self, ids):
        """The word (or special token) of each id."""
        return [self.SPECIALS[i] if i < len(self.SPECIALS) else self.words[i - len(self.SPECIALS)] for i in ids]

    def decode(self, ids):
        """Text of the ids up to the first end id: no space around hyphens, none before commas."""
        tokens = []
        for i in ids:
            if i == self.EOS_ID:
                break
            if i >= len(self.SPECIALS):
                tokens.append(self.words[i - len(self.SPECIALS)])
        return " ".join(tokens).replace(" - ", "-").replace(" ,", ",")

    def to_dict(self):
        return {"type": "word", "words": self.words, "hyphenated": sorted(self.HYPHEN.join(pair) for pair in self.hyphenated)}

    @classmethod
    def from_dict(cls, data):
        # str.split, not pair.split: a pair that is not a string is a TypeError, which reads as a malformed vocabulary.
        return cls(data["words"], [str.split(pair, cls.HYPHEN) for pair in data.get("hyphenated", ())])


class SymbolTokenizer(WordTokenizer):
    """Text as symbols that a pattern finds, joined back without spaces: the characters of a chemical name (lower-cased,
    as the names were), or the atoms, bonds and ring digits of a SMILES. Ids as `WordTokenizer`'s. Every character
    counts in chemistry, so an unknown one is an error, punctuation included."""

    UNIT = "symbol"
    DROPS_UNKNOWN_PUNCTUATION = False
    # pattern -> (regular expression, lower-case first)
    PATTERNS = {"lowercase_characters": (r".", True), "smiles": (r"\[[^\]]+\]|Br|Cl|%\d\d|.", False)}

    def __init__(self, words, pattern):
        super().__init__(words)
        self.pattern = pattern
        expression, self.lower = self.PATTERNS[pattern]
        self._symbol = re.compile(expression, re.DOTALL)

    @classmethod
    def fit(cls, texts, pattern):
        symbols = cls([], pattern).split
        return cls(sorted({symbol for text in texts for symbol in symbols(text)}), pattern)

    def split(self, text):
        return self._symbol.findall(text.lower() if self.lower else text)

    def decode(self, ids):
        """Text of the ids up to the first end id."""
        ids = [int(i) for i in ids]
        ids = ids[: ids.index(self.EOS_ID)] if self.EOS_ID in ids else ids
        return "".join(self.words[i - len(self.SPECIALS)] for i in ids if i >= len(self.SPECIALS))

    def to_dict(self):
        return {"type": "symbols", "pattern": self.pattern, "words": self.words}

    @classmethod
    def from_dict(cls, data):
        return cls(data["words"], data["pattern"])


class SubwordTokenizer:
    """A SentencePiece BPE model; ids 0 padding, 1 start, 2 end, 3 unknown, as `WordTokenizer`.

    The model file travels inside the vocabulary JSON (base64), so presets and artifacts stay one file.
    """

    BOS_ID, EOS_ID, UNK_ID = BOS_ID, EOS_ID, 3

    def __init__(self, model_proto):
        import sentencepiece

        self.model_proto = model_proto
        self._processor = sentencepiece.SentencePieceProcessor(model_proto=model_proto)

    @classmethod
    def fit(cls, texts, vocab_size):
        import sentencepiece

        model = io.BytesIO()
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter(texts), model_writer=model, model_type="bpe", vocab_size=vocab_size,
            character_coverage=1.0, pad_id=0, bos_id=cls.BOS_ID, eos_id=cls.EOS_ID, unk_id=cls.UNK_ID,
            num_threads=1, minloglevel=2,
        )
        return cls(model.getvalue())

    @property
    def vocab_size(self):
        return self._processor.get_piece_size()

    def encode(self, text, max_length=None):
        """Ids of the subwords of `text` followed by the end id; unknown characters become the unknown id."""
        ids = self._processor.encode(text)
        if not ids:
            raise ZooError("empty text: give at least one word")
        if max_length is not None and len(ids) + 1 > max_length:
            raise ZooError(f"text of {len(ids)} subword tokens is longer than the maximum of {max_length - 1}")
        return np.array(ids + [self.EOS_ID], dtype="int32")

    def encode_batch(self, texts, max_length=None):
        return pad_batch([self.encode(text, max_length) for text in texts])

    def tokens(self, ids):
        """The subword of each id (`▁` marks a word start)."""
        return [self._processor.id_to_piece(int(i)) for i in ids]

    def decode(self, ids):
        """Text of the ids up to the first end id."""
        ids = [int(i) for i in ids]
        ids = ids[: ids.index(self.EOS_ID)] if self.EOS_ID in ids else ids
        return self._processor.decode([i for i in ids if i > self.EOS_ID])

    def to_dict(self):
        return {"type": "subword", "sentencepiece_model": base64.b64encode(self.model_proto).decode("ascii")}

    @classmethod
    def from_dict(cls, data):
        return cls(base64.b64decode(data["sentencepiece_model"]))


def pad_batch(rows):
    """Right-padded (batch, longest) ids."""
    batch = np.full((len(rows), max(map(len, rows))), PAD_ID, dtype="int32")
    for row, ids in zip(batch, rows):
        row[: len(ids)] = ids
    return batch


def tokenizer_from_dict(data):
    kinds = {"char": CharTokenizer, "word": WordTokenizer, "symbols": SymbolTokenizer, "subword": SubwordTokenizer, "pair": TokenizerPair}
    kind = data.get("type") if isinstance(data, dict) else None
    if kind not in kinds:
        raise ZooError(f"unknown tokenizer type {kind!r}; this version of zoo reads {', '.join(kinds)}")
    try:
        return kinds[kind].from_dict(data)
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise ZooError(f"malformed {kind} tokenizer: {type(error).__name__} {error}") from None


def save_tokenizer(tokenizer, path):
    with open(path, "w", encoding="utf-8") as file:
        json.dump(tokenizer.to_dict(), file, ensure_ascii=False, indent=1)


class TokenizerPair:
    """Source and target vocabularies of a translation model."""

    def __init__(self, source, target):
        self.source = source
        self.target = target

    def to_dict(self):
        return {"type": "pair", "source": self.source.to_dict(), "target": self.target.to_dict()}

    @classmethod
    def from_dict(cls, data):
        return cls(tokenizer_from_dict(data["source"]), tokenizer_from_dict(data["target"]))
