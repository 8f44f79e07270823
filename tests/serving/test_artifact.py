import os

import numpy as np

from serving.artifact import CACHE_BOUND_BYTES, Artifact
from tests.conftest import once


def thread_counts_after(artifact, graph, rows):
    """The thread counts of `graph`'s sessions once it has run on `rows` zero rows, 5 long where there is a time axis
    (opening an artifact makes one session per graph on one thread)."""
    inputs = {tensor["name"]: np.zeros([rows if axis == "batch" else 5 if axis == "time" else axis for axis in tensor["shape"]], tensor["dtype"])
              for tensor in artifact.manifest["graphs"][graph]["inputs"]}
    artifact.run(graph, inputs)
    return {threads for name, threads in artifact.sessions if name == graph}


@once
def test_only_a_whole_sequence_graph_too_large_for_a_cores_cache_runs_on_every_core_at_batch_1(artifacts):
    large, small = Artifact(artifacts["char_rnn_shakespeare"]), Artifact(artifacts["smiles_rnn_moses"])
    assert large.paths["sequence"].stat().st_size > CACHE_BOUND_BYTES > small.paths["sequence"].stat().st_size
    assert thread_counts_after(large, "sequence", 1) == {1, os.cpu_count()}
    assert thread_counts_after(large, "step", 1) == thread_counts_after(small, "sequence", 1) == {1}
    assert thread_counts_after(small, "sequence", 64) == {1, os.cpu_count()}
    assert thread_counts_after(Artifact(artifacts["char_rnn_shakespeare"], threads=1), "sequence", 1) == {1}
