import numpy as np
import pytest

from export.parity import held_out_inputs
from serving.artifact import Artifact
from serving.runtime import BATCH, Runtime
from tests.conftest import once
from zoo.core.decoding import GRAPH_SEARCH_ROWS, beam_search, rows_of, take


@once
@pytest.mark.parametrize("name", ["attention_en_fr_numbers", "sat_fashion_scenes"])
def test_a_batch_cut_into_parts_decoded_side_by_side_gives_what_the_whole_batch_gives(artifacts, name):
    """Serving deals a batch of more than GRAPH_SEARCH_ROWS sources, a BATCH at a time, to parts decoded side by side
    on one-thread sessions: the same ids and scores, in the sources' order, as the whole batch decoded at once on
    every core."""
    whole = Artifact(artifacts[name], threads=2)
    sources = take(held_out_inputs(whole), np.arange(BATCH + 9))  # more than a BATCH, in parts of unequal size
    assert rows_of(sources) > GRAPH_SEARCH_ROWS
    runtime = Runtime(Artifact(artifacts[name]))
    for width in (1, 4):
        expected, actual = beam_search(whole, sources, whole.manifest["max_target_length"], width), runtime.decode(sources, width)
        assert [result["ids"] for result in actual] == [result["ids"] for result in expected]
        assert np.allclose([result["score"] for result in actual], [result["score"] for result in expected], rtol=0, atol=1e-6)
