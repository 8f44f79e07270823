import numpy as np

from training.batches import ArrayBatches, LengthBuckets, TextWindows


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


def test_text_windows_are_cut_anew_each_epoch_into_the_same_number_of_full_batches():
    ids = np.arange(1000)
    windows = TextWindows(ids, sequence_length=10, batch_size=8, seed=0)
    cuts = set()
    for epoch in range(6):
        windows.set_epoch(epoch)
        assert len(windows) == 12  # 99 windows fit any offset: 12 full batches of 8
        inputs, targets = windows[0]
        assert inputs.shape == targets.shape == (8, 10) and (targets == inputs + 1).all() and (np.diff(inputs, axis=1) == 1).all()
        starts = np.concatenate([windows[i][0][:, 0] for i in range(len(windows))])
        assert len(set(starts % 10)) == 1 and len(set(starts)) == len(starts)  # one offset per epoch, no window twice
        cuts.add(int(starts[0] % 10))
    assert len(cuts) > 1
    fresh = TextWindows(ids, sequence_length=10, batch_size=8, seed=0)
    fresh.set_epoch(5)
    assert (fresh[3][0] == windows[3][0]).all()  # an epoch's windows depend on (seed, epoch) alone
