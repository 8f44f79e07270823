"""An exported artifact folder opened with onnxruntime: a runner (`run`, `graphs`) over its checked files.

Every graph runs on every core (`threads` fixes the count instead), its threads spinning while a call runs and
sleeping between calls: a decoding step is dozens of nodes of a few microseconds each, and a thread woken from sleep
for each node costs more than it saves, while a spinning one takes its share at once. onnxruntime's default spins on
after a call too, which keeps a core busy when the decoding loop's numpy work and the next graph need it;
`session.force_spinning_stop` ends the spinning as each call returns. A long-lived service passes `spinning=False`:
its event loop and its clients need the cores while a call runs, and a thread spinning beside them slows them down.
Its threads then sleep between a call's nodes too, so its search graphs run on one thread. A large batch decodes
fastest split into parts, decoded side by side, one per core, each on one thread (`workers` of them, on the sessions
of `one_thread`; `serving.runtime` deals the sources to them), and so does a `sequence` graph over more than
GRAPH_SEARCH_ROWS rows (`run` cuts it in one part per worker). `python -m benchmarks.threads` times these settings
side by side. The outputs are the same bits on any thread count, which the tests check.
"""
import os
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path

import numpy as np
import onnxruntime

from zoo.core.contract import SEARCH_KINDS, Graphs
from zoo.core.decoding import GRAPH_SEARCH_ROWS, chunks, rows_of
from zoo.core.errors import ZooError
from zoo.core.folders import sha256
from zoo.core.manifest import read_manifest
from zoo.core.tokenizers import tokenizer_from_dict

PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}
CORES = os.cpu_count() or 1
MAX_THREADS = 256  # per graph call: past the cores they only queue, and 100,000 took over a minute to start


def provider_chain(provider):
    if provider not in PROVIDERS:
        raise ZooError(f"unknown provider {provider!r}; choose from {', '.join(PROVIDERS)}")
    available = onnxruntime.get_available_providers()
    if PROVIDERS[provider] not in available:
        raise ZooError(f"the {provider} provider is not available here; onnxruntime offers {', '.join(available)}")
    if provider == "cuda":
        # TF32 matmuls on the GPU differ from fp32 by ~1e-3; keep exact fp32 so results match the CPU.
        return [(PROVIDERS["cuda"], {"use_tf32": "0"}), PROVIDERS["cpu"]]
    return [PROVIDERS["cpu"]]


class Artifact:
    """`run(graph, inputs)` evaluates one exported graph and returns its outputs by name; `graphs` are their declared roles."""

    def __init__(self, folder, provider="cpu", threads=None, spinning=True):
        if threads is not None and not 1 <= threads <= MAX_THREADS:
            raise ZooError(f"--threads must be from 1 to {MAX_THREADS}, not {threads}")
        self.folder = Path(folder)
        self.manifest = read_manifest(folder)
        self.graphs = Graphs(self.manifest["graphs"])
        self.vocabularies = self.manifest["vocabularies"]
        self.tokenizer = tokenizer_from_dict(self.manifest["tokenizer"])
        self.providers = provider_chain(provider)
        self.provider, self.threads, self.spinning = provider, threads, spinning
        self.paths = {name: self.checked(spec["onnx"]) for name, spec in self.manifest["graphs"].items()}
        self.sessions = {name: self.session(name) for name in self.paths}
        self.output_names = {name: [tensor["name"] for tensor in spec["outputs"]] for name, spec in self.manifest["graphs"].items()}

    @property
    def max_length(self):
        return self.manifest["max_length"]

    @property
    def workers(self):
        """How many parts of a batch decode side by side: one per core, on the CPU with the default threads; else 1."""
        return CORES if self.provider == "cpu" and self.threads is None else 1

    @cached_property
    def one_thread(self):
        """This artifact with every graph on one thread: the runner of each part of a batch decoded side by side."""
        return Artifact(self.folder, self.provider, threads=1, spinning=self.spinning)

    @cached_property
    def pool(self):
        return ThreadPoolExecutor(self.workers)

    def side_by_side(self, work, parts):
        """[work(one_thread, part) for part in parts], run on one thread per worker."""
        return list(self.pool.map(lambda part: work(self.one_thread, part), parts))

    def checked(self, relative):
        """The path of an artifact file whose sha256 is the manifest's."""
        path = self.folder / relative
        if relative not in self.manifest["files"]:
            raise ZooError(f"{relative} is not listed in the manifest's files")
        if not path.is_file():
            raise ZooError(f"{path} is missing from the artifact")
        if sha256(path) != self.manifest["files"][relative]:
            raise ZooError(f"{path} does not match the sha256 in the manifest: the file is corrupted or was changed; export again")
        return path

    def threads_of(self, graph):
        """`threads` where given, else every core; but one for a search graph whose threads would sleep between nodes."""
        if self.threads is not None:
            return self.threads
        return 1 if not self.spinning and self.manifest["graphs"][graph]["kind"] in SEARCH_KINDS else CORES

    def session(self, graph):
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only: the CUDA provider warns about every host-device copy it adds
        options.intra_op_num_threads = self.threads_of(graph)
        options.add_session_config_entry("session.intra_op.allow_spinning", str(int(self.spinning)))
        options.add_session_config_entry("session.force_spinning_stop", "1")
        try:
            session = onnxruntime.InferenceSession(str(self.paths[graph]), options, providers=self.providers)
        except Exception as error:
            raise ZooError(f"onnxruntime cannot load {self.paths[graph]}: {str(error).splitlines()[0]}") from None
        self.check_declared(graph, session)
        return session

    def check_declared(self, graph, session):
        """The graph's inputs and outputs must be the tensors the manifest declares, by name."""
        spec = self.manifest["graphs"][graph]
        for side, actual in (("inputs", session.get_inputs()), ("outputs", session.get_outputs())):
            declared, found = [tensor["name"] for tensor in spec[side]], [tensor.name for tensor in actual]
            if sorted(declared) != sorted(found):
                raise ZooError(f"manifest field graphs.{graph}.{side} declares {', '.join(declared)}, but {spec['onnx']} has {', '.join(found)}")

    def runs_in_parts(self, graph, rows):
        """Whether `run` cuts `rows` rows of `graph` into one part per worker: a `sequence` graph over more than
        GRAPH_SEARCH_ROWS rows, where there are several workers."""
        return self.workers > 1 and self.manifest["graphs"][graph]["kind"] == "sequence" and rows > GRAPH_SEARCH_ROWS

    def run(self, graph, inputs):
        names = self.output_names[graph]
        if self.runs_in_parts(graph, rows_of(inputs)):
            # Every output's first axis is the batch (the contract's shapes), so the parts' outputs stack back.
            parts = chunks(inputs, -(-rows_of(inputs) // self.workers))
            outputs = self.side_by_side(lambda runner, part: runner.run(graph, part), parts)
            return {name: np.concatenate([output[name] for output in outputs]) for name in names}
        return dict(zip(names, self.sessions[graph].run(names, inputs)))
