import pytest

from benchmarks.__main__ import JittedDecoding, decoding_inputs
from benchmarks.keras_timing import decoding_cases, save_inputs
from serving.artifact import Artifact
from serving.runtime import Runtime
from tests.conftest import once
from zoo.core.decoding import take
from zoo.core.errors import ZooError


@once
def test_the_jax_process_times_each_case_on_request_and_decodes_as_serving(artifacts, tmp_path):
    artifact = Artifact(artifacts["walk_instructions"])
    sources = take(decoding_inputs(artifact), range(5))
    save_inputs(tmp_path / "inputs.npz", {}, sources)
    with JittedDecoding(artifact.folder, tmp_path / "inputs.npz", tmp_path) as jitted:
        for case, (width, _, _) in enumerate(decoding_cases(sources)):
            assert [result["ids"] for result in Runtime(artifact).decode(sources, beam=width)] == jitted.cases[case]["ids"]
            assert jitted.timer(case)() > 0 and jitted.cases[case]["compile_s"] > 0
    with pytest.raises(ZooError, match="^the jitted JAX decode: no preset or preset folder") as error:
        JittedDecoding(tmp_path / "no_artifact", tmp_path / "inputs.npz", tmp_path)
    assert "\n" not in str(error.value)
