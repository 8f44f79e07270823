import numpy as np

from training.translation import LengthBuckets


def test_length_buckets_make_full_batches_of_few_shapes_without_cutting_tokens():
    rng = np.random.default_rng(0)
    targets = np.zeros((1000, 40), "int32")
    for row, length in zip(targets, rng.integers(1, 40, 1000)):
        row[:length] = rng.integers(3, 50, length)
    source = np.roll(targets, 1, axis=0)
    weights = (targets != 0).astype("float32")
    buckets = LengthBuckets(({"source": source, "target_in": targets}, targets, weights), batch_size=32, buckets=4, seed=0)
    assert len(buckets) == sum(len(rows) // 32 for rows, _, _ in buckets.groups) == 28
    shapes = set()
    for index, (rows, _, _) in enumerate(buckets.batches):
        inputs, target, weight = buckets[index]
        shapes.add((inputs["source"].shape, target.shape))
        assert len(rows) == 32 and len(set(rows)) == 32
        # Cutting to the bucket's lengths drops padding only.
        assert inputs["source"].sum() == source[rows].sum() and weight.sum() == weights[rows].sum() and (target == targets[rows, : target.shape[1]]).all()
    assert len(shapes) == 4
    first_epoch = [rows.tolist() for rows, _, _ in buckets.batches]
    buckets.on_epoch_end()
    assert [rows.tolist() for rows, _, _ in buckets.batches] != first_epoch
