"""`python -m serving ARTIFACT ...`: generate text or classify with onnxruntime, no Keras involved."""
import argparse
import json
import sys

import numpy as np

from serving.artifact import PROVIDERS, Artifact
from serving.decoding import sample_text
from serving.errors import ZooError


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m serving", description=__doc__)
    parser.add_argument("artifact", help="artifact folder written by `zoo export`")
    task = parser.add_mutually_exclusive_group(required=True)
    task.add_argument("--prompt", help="language models: text to continue")
    task.add_argument("--text", help="classifiers: text to classify")
    parser.add_argument("--length", type=int, default=200, help="characters to generate (default 200)")
    parser.add_argument("--temperature", type=float, default=0.8, help="sampling temperature, 0 for greedy (default 0.8)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--top-k", type=int, default=3, help="classes to show (default 3)")
    parser.add_argument("--provider", choices=sorted(PROVIDERS), default="cpu")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser.parse_args(argv)


def generate(artifact, arguments):
    if artifact.manifest["task"] != "language_model":
        raise ZooError(f"{artifact.manifest['preset']} is a {artifact.manifest['task']} model: use --text, not --prompt")
    if arguments.length < 1 or arguments.temperature < 0:
        raise ZooError("--length must be at least 1 and --temperature at least 0")
    rng = np.random.default_rng(arguments.seed)
    text = sample_text(artifact.run, artifact.tokenizer, arguments.prompt, arguments.length, arguments.temperature, rng)
    return {"prompt": arguments.prompt, "generated": text}, arguments.prompt + text


def classify(artifact, arguments):
    if artifact.manifest["task"] != "classification":
        raise ZooError(f"{artifact.manifest['preset']} is a {artifact.manifest['task']} model: use --prompt, not --text")
    tokens = artifact.tokenizer.encode_batch([arguments.text], artifact.max_length)
    logits = artifact.run("sequence", {"tokens": tokens})["logits"][0].astype("float64")
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    top = np.argsort(-probabilities)[: max(arguments.top_k, 1)]
    classes = [{"label": artifact.tokenizer.labels[i], "probability": round(float(probabilities[i]), 4)} for i in top]
    lines = [f"{arguments.text}:"] + [f"  {c['label']:<8} {c['probability']:.3f}" for c in classes]
    return {"text": arguments.text, "classes": classes}, "\n".join(lines)


def main(argv=None):
    arguments = parse_arguments(argv)
    try:
        artifact = Artifact(arguments.artifact, arguments.provider)
        result, text = (generate if arguments.prompt is not None else classify)(artifact, arguments)
    except ZooError as error:
        sys.exit(f"error: {error}")
    print(json.dumps({"preset": artifact.manifest["preset"], "provider": arguments.provider, **result}, ensure_ascii=False) if arguments.json else text)


if __name__ == "__main__":
    main()
