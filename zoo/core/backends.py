"""The Keras backends, and running Python in a process of its own for one: Keras fixes its backend at first import."""
import os
import subprocess
import sys

from zoo.core.errors import ZooError

BACKENDS = ("tensorflow", "jax", "torch")
# Both, before TensorFlow is imported, for a silent import (oneDNN lines otherwise print twice).
QUIET_TENSORFLOW = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}


def backend_environment(backend=None):
    return {**os.environ, **QUIET_TENSORFLOW, **({"KERAS_BACKEND": backend} if backend else {})}


def run_python(arguments, backend=None, what=None, cwd=None):
    """Runs `python ARGUMENTS` with KERAS_BACKEND=backend and returns its stdout; a failure raises a ZooError
    carrying the last line of its stderr (after `what`)."""
    result = subprocess.run([sys.executable, *arguments], env=backend_environment(backend), cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        reason = lines[-1].removeprefix("error: ") if lines else f"exit code {result.returncode}"
        raise ZooError(f"{what}: {reason}" if what else reason)
    return result.stdout
