import pytest

from benchmarks.__main__ import JaxProcess, benchmark_inputs, decoding_inputs
from benchmarks.keras_timing import decoding_cases, save_inputs
from serving.artifact import Artifact
from serving.runtime import Runtime
from tests.conftest import once
from zoo.core.decoding import take
from zoo.core.errors import ZooError


@once
def test_the_jax_process_times_each_call_on_request_and_decodes_as_serving(artifacts, tmp_path):
    artifact = Artifact(artifacts["walk_instructions"])
    sources = take(decoding_inputs(artifact), range(5))
    save_inputs(tmp_path / "inputs.npz", benchmark_inputs(artifact.manifest), sources)
    with JaxProcess(artifact.folder, tmp_path / "inputs.npz", tmp_path) as jax:
        assert set(jax.graph_runners("decoder_step", 64)) == {"keras jax predict_on_batch", "keras jax call"}
        assert all(timer() > 0 for timer in jax.graph_runners("encoder", 1).values())
        for case, (width, _, _) in enumerate(decoding_cases(sources)):
            assert [result["ids"] for result in Runtime(artifact).decode(sources, beam=width)] == jax.decodings[case]["ids"]
            assert jax.timer(f"decoding {case}")() > 0 and jax.decodings[case]["compile_s"] > 0
    with pytest.raises(ZooError, match="^timing JAX: no preset or preset folder") as error:
        JaxProcess(tmp_path / "no_artifact", tmp_path / "inputs.npz", tmp_path)
    assert "\n" not in str(error.value)
