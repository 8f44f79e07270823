import numpy as np

from training.batches import LengthBuckets, ArrayBatches


def test_length_buckets_make_full_batches_of_few_shapes_without_cutting_tokens():
    rng = np.random.default_rng(0)
    targets = np.zeros((1000, 40), "int32")
    for row, length in zip(targets, rng.integers(1, 40, 1000)):
        row[:length] = rng.integers(3, 50, length)
    source = np.roll(targets, 1, axis=0)
    weights = (targets != 0).astype("float32")
    buckets = LengthBuckets(({"source": source, "target_in": targets}, targets, weights), batch_size=32, seed=0, buckets=4)
    assert len(buckets) == sum(len(rows) // 32 for rows, _, _ in buckets.groups) == 28
    shapes = set()
    for index, (rows, _, _) in enumerate(buckets.keys):
        inputs, target, weight = buckets[index]
        shapes.add((inputs["source"].shape, target.shape))
        assert len(rows) == 32 and len(set(rows)) == 32
        # Cutting to the bucket's lengths drops padding only.
        assert inputs["source"].sum() == source[rows].sum() and weight.sum() == weights[rows].sum() and (target == targets[rows, : target.shape[1]]).all()
    assert len(shapes) == 4


def test_the_order_of_an_epoch_depends_on_seed_and_epoch_alone():
    """What a resumed run relies on: the plan of epoch e is drawn afresh from (seed, e), whatever came before."""
    arrays = ({"tokens": np.arange(100).reshape(50, 2)}, np.arange(50))
    batches = ArrayBatches(arrays, batch_size=8, seed=3)
    assert len(batches) == 6 and all(len(batches[i][1]) == 8 for i in range(6))  # the remainder of 2 sits out
    batches.set_epoch(2)
    third = [batches[i][1].tolist() for i in range(6)]
    fresh = ArrayBatches(arrays, batch_size=8, seed=3)
    fresh.set_epoch(2)
    assert [fresh[i][1].tolist() for i in range(6)] == third
    fresh.set_epoch(1)
    assert [fresh[i][1].tolist() for i in range(6)] != third
    assert (batches[0][0]["tokens"][:, 0] == 2 * batches[0][1]).all()  # inputs and targets stay paired
