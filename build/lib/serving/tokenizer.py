"""Character vocabulary, numpy only, shared by training (through zoo) and serving."""
import json

import numpy as np

from serving.errors import ZooError

PAD_ID = 0


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
        if not text:
            raise ZooError("empty text: give at least one character")
        if max_length is not None and len(text) > max_length:
            raise ZooError(f"text of {len(text)} characters is longer than the maximum of {max_length}")
        unknown = sorted(set(text) - self._ids.keys())
        if unknown:
            raise ZooError(f"unknown characters {', '.join(map(repr, unknown))}: not in the {len(self.chars)}-character vocabulary")
        return np.array([self._ids[char] for char in text], dtype="int32")

    def encode_batch(self, texts, max_length=None):
        """Right-padded (batch, longest) ids."""
        encoded = [self.encode(text, max_length) for text in texts]
        batch = np.full((len(encoded), max(map(len, encoded))), PAD_ID, dtype="int32")
        for row, ids in zip(batch, encoded):
            row[: len(ids)] = ids
        return batch

    def decode(self, ids):
        return "".join(self.chars[i - 1] for i in ids if i != PAD_ID)

    def to_dict(self):
        return {"type": "char", "chars": self.chars, "labels": self.labels}

    @classmethod
    def from_dict(cls, data):
        return cls(data["chars"], data.get("labels"))

    def save(self, path):
        with open(path, "w", encoding="utf-8") as file:
            json.dump(self.to_dict(), file, ensure_ascii=False, indent=1)

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as file:
            return cls.from_dict(json.load(file))
