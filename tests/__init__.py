"""A regular package: molsets and tf2onnx install a top-level `tests` package into site-packages, which would
otherwise shadow this folder in `from tests.conftest import ...`."""
