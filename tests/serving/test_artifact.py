import os

import numpy as np
import pytest

from benchmarks.__main__ import Recorder
from export.parity import held_out_inputs, random_input
from serving.artifact import Artifact
from tests.conftest import once
from zoo.core.contract import SEARCH_KINDS
from zoo.core.decoding import GRAPH_SEARCH_ROWS, Without, beam_search, rows_of, take


@once
def test_threads_spin_within_a_call_on_every_core_and_a_service_sleeps_with_its_searches_on_one_thread(artifacts):
    folder = artifacts["attention_en_fr_numbers"]
    default, service, three = Artifact(folder), Artifact(folder, spinning=False), Artifact(folder, threads=3, spinning=False)
    searches_alone = lambda graph: 1 if default.manifest["graphs"][graph]["kind"] in SEARCH_KINDS else os.cpu_count()
    for artifact, threads, spinning in ((default, lambda graph: os.cpu_count(), "1"), (service, searches_alone, "0"), (three, lambda graph: 3, "0")):
        for graph, session in artifact.sessions.items():
            options = session.get_session_options()
            assert options.intra_op_num_threads == threads(graph), graph
            assert options.get_session_config_entry("session.intra_op.allow_spinning") == spinning
            assert options.get_session_config_entry("session.force_spinning_stop") == "1"
    assert {service.sessions[graph].get_session_options().intra_op_num_threads for graph in ("greedy_search", "encoder")} == {1, os.cpu_count()}
    assert (default.workers, service.workers, three.workers) == (os.cpu_count(), os.cpu_count(), 1)  # parts by default only


@once
@pytest.mark.parametrize("name", ["attention_en_fr_numbers", "sat_fashion_scenes"])
def test_one_thread_and_every_core_give_the_same_bits(artifacts, name):
    """`--threads` changes the speed of a decoding, never its outputs: the gate's results hold for any count."""
    one, every = Artifact(artifacts[name], threads=1), Artifact(artifacts[name])
    recorder = Recorder(Without(one, *SEARCH_KINDS))
    sources = held_out_inputs(one)
    beam_search(recorder, take(sources, np.arange(min(64, rows_of(sources)))), one.manifest["max_target_length"], beam_width=4)
    for graph, inputs in recorder.calls:
        expected, actual = one.run(graph, inputs), every.run(graph, inputs)
        assert all(np.array_equal(expected[output], actual[output]) for output in expected), graph


@once
@pytest.mark.skipif(os.cpu_count() < 2, reason="a sequence graph runs in parts only where there are several cores")
def test_a_sequence_graph_over_many_rows_runs_in_parts_with_the_bits_of_one_call(artifacts):
    """Over more than GRAPH_SEARCH_ROWS rows, serving runs the `sequence` graph in one part per core, side by side:
    every output, stacked back in order, is what one call on one thread gives."""
    artifact = Artifact(artifacts["rnn_surname_origin"])
    spec, rows = artifact.manifest["graphs"]["sequence"], 4 * GRAPH_SEARCH_ROWS + 5  # parts of unequal size
    inputs = {tensor["name"]: random_input(tensor, rows, 20, artifact.manifest, np.random.default_rng(0)) for tensor in spec["inputs"]}
    whole = artifact.one_thread.sessions["sequence"]
    expected = dict(zip(artifact.output_names["sequence"], whole.run(artifact.output_names["sequence"], inputs)))
    actual = artifact.run("sequence", inputs)
    assert artifact.workers > 1 and actual.keys() == expected.keys()
    assert all(np.array_equal(actual[name], expected[name]) for name in expected)
