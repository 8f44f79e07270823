"""`python -m serving ARTIFACT ...`: generate, classify, translate or caption with onnxruntime, no Keras involved."""
import argparse
import json
import sys

import numpy as np

from serving.artifact import PROVIDERS, Artifact
from zoo.core.decoding import beam_search, beam_search_in_batches, sample_text
from zoo.core.errors import ZooError
from serving.heatmap import draw_alignment
from serving.overlay import draw_overlay, load_image, pixels

TRANSLATION_BATCH = 64


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m serving", description=__doc__)
    parser.add_argument("artifact", help="artifact folder written by `zoo export`")
    task = parser.add_mutually_exclusive_group(required=True)
    task.add_argument("--prompt", help="language models: text to continue")
    task.add_argument("--text", help="classifiers: text to classify; translation models: text to translate")
    task.add_argument("--input", help="translation models: a file of one sentence per line, translated to JSON lines")
    task.add_argument("--image", help="captioning models: an image file (any format Pillow reads; made grey and resized to the model's size)")
    parser.add_argument("--length", type=int, default=200, help="characters to generate (default 200)")
    parser.add_argument("--temperature", type=float, default=0.8, help="sampling temperature, 0 for greedy (default 0.8)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--top-k", type=int, default=3, help="classes to show (default 3)")
    parser.add_argument("--beam", type=int, default=1, help="beam width for translation and captioning, 1 for greedy (default 1)")
    parser.add_argument("--heatmap", help="translation of --text: write the attention alignment to this PNG file")
    parser.add_argument("--overlay", help="captioning of --image: write the image once per word, with that step's attention over it, to this PNG file")
    parser.add_argument("--provider", choices=sorted(PROVIDERS), default="cpu")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser.parse_args(argv)


def require_task(artifact, task, option):
    if artifact.manifest["task"] != task:
        raise ZooError(f"{artifact.manifest['preset']} is a {artifact.manifest['task']} model: {option} is for {task} models")


def generate(artifact, arguments):
    require_task(artifact, "language_model", "--prompt")
    if arguments.length < 1 or arguments.temperature < 0:
        raise ZooError("--length must be at least 1 and --temperature at least 0")
    rng = np.random.default_rng(arguments.seed)
    text = sample_text(artifact.run, artifact.tokenizer, arguments.prompt, arguments.length, arguments.temperature, rng)
    return {"prompt": arguments.prompt, "generated": text}, arguments.prompt + text


def classify(artifact, arguments):
    tokens = artifact.tokenizer.encode_batch([arguments.text], artifact.max_length)
    logits = artifact.run("sequence", {"tokens": tokens})["logits"][0].astype("float64")
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    top = np.argsort(-probabilities)[: max(arguments.top_k, 1)]
    classes = [{"label": artifact.tokenizer.labels[i], "probability": round(float(probabilities[i]), 4)} for i in top]
    lines = [f"{arguments.text}:"] + [f"  {c['label']:<10} {c['probability']:.3f}" for c in classes]
    return {"text": arguments.text, "classes": classes}, "\n".join(lines)


def check_beam(beam):
    if beam < 1:
        raise ZooError("--beam must be at least 1")


def translate(artifact, texts, beam):
    """One result per text: the translation, its target tokens, score and attention (target x source)."""
    check_beam(beam)
    tokenizer = artifact.tokenizer
    source = tokenizer.source.encode_batch(texts, artifact.max_length)
    decoded = beam_search_in_batches(artifact.run, source, artifact.manifest["max_target_length"], beam, TRANSLATION_BATCH)
    results = []
    for text, result in zip(texts, decoded):
        translation = {
            "text": text,
            "translation": tokenizer.target.decode(result["ids"]),
            "source_tokens": tokenizer.source.tokens(tokenizer.source.encode(text)),
            "target_tokens": tokenizer.target.tokens(result["ids"] + [tokenizer.target.EOS_ID]),
            "score": round(result["score"], 6),
        }
        if result["attention"] is not None:
            translation["attention"] = np.round(result["attention"], 6).tolist()
        results.append(translation)
    return results


def caption(artifact, path, beam):
    """The caption of one image, its tokens, score, and per token the attention over the grid (H x W)."""
    check_beam(beam)
    scene = load_image(path, artifact.manifest["image"]["size"])
    result = beam_search(artifact.run, pixels(scene[None]), artifact.manifest["max_target_length"], beam)[0]
    tokenizer = artifact.tokenizer
    attention = result["attention"].reshape(-1, *artifact.manifest["attention_grid"])
    return scene, {
        "image": path,
        "caption": tokenizer.decode(result["ids"]),
        # One attention grid per emitted token: the end token only where it was reached within the length limit.
        "tokens": tokenizer.tokens(result["ids"] + [tokenizer.EOS_ID])[: len(attention)],
        "score": round(result["score"], 6),
        "attention": np.round(attention, 6).tolist(),
    }


def read_lines(path):
    try:
        with open(path, encoding="utf-8") as file:
            lines = [line.strip() for line in file if line.strip()]
    except (OSError, UnicodeDecodeError) as error:
        raise ZooError(f"cannot read --input {path}: {error}") from None
    if not lines:
        raise ZooError(f"--input {path} has no sentences")
    return lines


def main(argv=None):
    arguments = parse_arguments(argv)
    try:
        if arguments.overlay and arguments.image is None:
            raise ZooError("--overlay draws the attention of a caption: give --image too")
        artifact = Artifact(arguments.artifact, arguments.provider)
        header = {"preset": artifact.manifest["preset"], "provider": arguments.provider}
        if arguments.input is not None:
            require_task(artifact, "translation", "--input")
            for result in translate(artifact, read_lines(arguments.input), arguments.beam):
                print(json.dumps({**header, **result}, ensure_ascii=False))
            return
        if arguments.prompt is not None:
            result, text = generate(artifact, arguments)
        elif arguments.image is not None:
            require_task(artifact, "captioning", "--image")
            scene, result = caption(artifact, arguments.image, arguments.beam)
            text = result["caption"]
            if arguments.overlay:
                draw_overlay(scene, np.asarray(result["attention"]).reshape(len(result["tokens"]), -1), result["tokens"], arguments.overlay)
        elif artifact.manifest["task"] == "translation":
            result = translate(artifact, [arguments.text], arguments.beam)[0]
            text = result["translation"]
            if arguments.heatmap:
                if "attention" not in result:
                    raise ZooError(f"{artifact.manifest['preset']} has no attention to draw: --heatmap needs an attention model")
                draw_alignment(result["attention"], result["source_tokens"], result["target_tokens"], arguments.heatmap)
        else:
            require_task(artifact, "classification", "--text")
            result, text = classify(artifact, arguments)
    except ZooError as error:
        sys.exit(f"error: {error}")
    print(json.dumps({**header, **result}, ensure_ascii=False) if arguments.json else text)


if __name__ == "__main__":
    main()
