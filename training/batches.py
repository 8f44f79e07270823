"""Training batches whose order depends on (seed, epoch) alone, so that a resumed run sees what an uninterrupted one saw."""
import keras
import numpy as np

from zoo.core.decoding import take
from zoo.core.tokenizers import PAD_ID


def full_batches(order, batch_size):
    """`order` cut into consecutive batches of `batch_size`; a remainder too short to fill one is left out."""
    return [order[i : i + batch_size] for i in range(0, len(order) - batch_size + 1, batch_size)]


class EpochBatches(keras.utils.PyDataset):
    """Full batches only (a data-parallel batch must split evenly); `set_epoch` draws that epoch's plan.

    Subclasses give `plan(rng)`, a list of per-batch keys, and `batch(key)`, the (inputs, targets, weights) it names.
    """

    def __init__(self, seed):
        super().__init__()
        self.seed, self.part = seed, (0, 1)
        self.set_epoch(0)

    def set_epoch(self, epoch):
        self.epoch = epoch
        self.keys = self.plan(np.random.default_rng([self.seed or 0, epoch]))

    def __len__(self):
        return len(self.keys)

    def shard(self, process, processes):
        """Across hosts each process feeds its own equal part of every global batch (keras.distribution takes the
        batch a process gives as its local part)."""
        self.part = (process, processes)

    def __getitem__(self, index):
        batch = self.batch(self.keys[index])
        process, processes = self.part
        size = len(batch[1]) // processes
        return batch if processes == 1 else tuple(take(item, slice(process * size, (process + 1) * size)) for item in batch)

    def on_epoch_end(self):
        """The next epoch's order is drawn by `set_epoch`, which the training loop calls before each epoch."""


class ArrayBatches(EpochBatches):
    """Rows of (inputs, targets[, weights]) arrays, in a new random order every epoch (in their order without a seed);
    the remainder sits the epoch out."""

    def __init__(self, arrays, batch_size, seed=None):
        self.arrays, self.batch_size = arrays, batch_size
        super().__init__(seed)

    def plan(self, rng):
        order = np.arange(len(self.arrays[1])) if self.seed is None else rng.permutation(len(self.arrays[1]))
        return full_batches(order, self.batch_size)

    def batch(self, rows):
        return tuple(take(array, rows) for array in self.arrays)


class TextWindows(EpochBatches):
    """Next-token (inputs, targets) windows of one long token stream, cut at a new random offset every epoch.

    Fixed cuts would show the model the same windows, each started from a zero state at the same characters, every
    epoch; a new offset makes every epoch's windows new ones. Each epoch has the same number of full batches.
    """

    def __init__(self, ids, sequence_length, batch_size, seed):
        self.ids, self.sequence_length, self.batch_size = ids, sequence_length, batch_size
        self.windows = (len(ids) - sequence_length) // sequence_length  # as many as the largest offset leaves
        super().__init__(seed)

    def plan(self, rng):
        offset = int(rng.integers(self.sequence_length))
        starts = offset + self.sequence_length * rng.permutation(self.windows)
        return full_batches(starts, self.batch_size)

    def batch(self, starts):
        tokens = self.ids[starts[:, None] + np.arange(self.sequence_length + 1)]
        return tokens[:, :-1], tokens[:, 1:]


class LengthBuckets(EpochBatches):
    """Teacher-forced batches of similar target length, cut to few distinct shapes.

    Pairs are sorted by target length into `buckets` groups, each padded only to its own longest
    source and target: far less padding than one global shape, and one compiled step per group.
    Each group's remainder sits the epoch out.
    """

    def __init__(self, data, batch_size, seed, buckets=4):
        (self.inputs, self.targets, self.weights), self.batch_size = data, batch_size
        target_lengths = (self.weights > 0).sum(axis=1)
        source_lengths = self.source_lengths()
        order = np.argsort(target_lengths, kind="stable")
        self.groups = [(rows, source_lengths[rows].max(), target_lengths[rows].max()) for rows in np.array_split(order, buckets)]
        super().__init__(seed)

    def source_lengths(self):
        return (self.inputs["source"] != PAD_ID).sum(axis=1)

    def sources(self, rows, length):
        """The encoder's inputs of these rows, `length` long."""
        return {"source": self.inputs["source"][rows, :length]}

    def plan(self, rng):
        batches = []
        for rows, source_length, target_length in self.groups:
            shuffled = rng.permutation(rows)
            batches += [(batch, source_length, target_length) for batch in full_batches(shuffled, self.batch_size)]
        return [batches[i] for i in rng.permutation(len(batches))]

    def batch(self, key):
        rows, source_length, target_length = key
        inputs = {**self.sources(rows, source_length), "target_in": self.inputs["target_in"][rows, :target_length]}
        return inputs, self.targets[rows, :target_length], self.weights[rows, :target_length]
