"""An exported artifact folder opened with onnxruntime: manifest, checked files, one session per graph."""
import hashlib
import json
from pathlib import Path

import onnxruntime

from zoo.core.errors import ZooError
from zoo.core.tokenizers import tokenizer_from_dict

PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}
MANIFEST_KEYS = ("format_version", "preset", "task", "graphs", "tokenizer", "files")

def read_manifest(folder):
    folder = Path(folder)
    path = folder / "manifest.json"
    if not folder.is_dir():
        raise ZooError(f"no artifact folder {folder}")
    if not path.is_file():
        raise ZooError(f"{folder} has no manifest.json: not an artifact folder (write one with `zoo export`)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ZooError(f"{path} is not valid JSON: {error}") from None
    missing = [key for key in MANIFEST_KEYS if not isinstance(manifest, dict) or key not in manifest]
    if missing:
        raise ZooError(f"{path} is malformed: it lacks {', '.join(missing)}")
    return manifest

def check_file(folder, manifest, name):
    path = Path(folder) / name
    if not path.is_file():
        raise ZooError(f"{path} is missing from the artifact")
    expected = manifest["files"].get(name)
    if hashlib.sha256(path.read_bytes()).hexdigest() != expected:
        raise ZooError(f"{path} does not match the sha256 in the manifest: the file is corrupted or was changed; export again")
    return path

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
    """`run(graph, inputs)` evaluates one exported graph and returns its outputs by name."""

    def __init__(self, folder, provider="cpu"):
        self.folder = Path(folder)
        self.manifest = read_manifest(folder)
        self.tokenizer = tokenizer_from_dict(self.manifest["tokenizer"])
        providers = provider_chain(provider)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only: the CUDA provider warns about every host-device copy it adds
        self.sessions = {}
        for name, graph in self.manifest["graphs"].items():
            path = check_file(folder, self.manifest, graph["onnx"])
            try:
                self.sessions[name] = onnxruntime.InferenceSession(str(path), options, providers=providers)
            except Exception as error:
                raise ZooError(f"onnxruntime cannot load {path}: {str(error).splitlines()[0]}") from None
        self.input_names = {name: {tensor.name for tensor in session.get_inputs()} for name, session in self.sessions.items()}
        self.output_names = {name: [tensor.name for tensor in session.get_outputs()] for name, session in self.sessions.items()}

    @property
    def max_length(self):
        return self.manifest.get("max_length")

    def run(self, graph, inputs):
        """Outputs by name; inputs the graph does not take (encoder outputs, for a decoder without attention) are dropped."""
        outputs = self.sessions[graph].run(None, {name: value for name, value in inputs.items() if name in self.input_names[graph]})
        return dict(zip(self.output_names[graph], outputs))
