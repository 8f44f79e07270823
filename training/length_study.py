"""Quality against source length, one line per model (Bahdanau et al. 2015, figure 2, on number words)."""
import json
import shutil
from pathlib import Path

from training import translation
from training.data import numbers
from training.model_card import write_model_card
from zoo.presets import Preset
from zoo.runner import keras_runner

PRESETS = ("seq2seq_en_fr_numbers", "attention_en_fr_numbers")


def by_digit_count(preset_name, seed=0):
    """Greedy exact match and token accuracy on the test numbers of each digit count."""
    preset = Preset(preset_name)
    numbers_, sources, targets = numbers.load_splits(seed, train_size=0)["test"]
    results = translation.translate(keras_runner(preset.load_model()), preset.tokenizer, sources, translation.MAX_LENGTH)
    rows = []
    for digits in range(1, numbers.MAX_DIGITS + 1):
        picked = [i for i, n in enumerate(numbers_) if len(str(n)) == digits]
        score = translation.score(preset.tokenizer, [results[i] for i in picked], [targets[i] for i in picked])
        english_words = sum(len(preset.tokenizer.source.split(sources[i])) for i in picked) / len(picked)
        rows.append({"digits": digits, "mean_source_tokens": round(english_words, 1), **score})
    return rows


def plot(study, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for name, rows in study.items():
        axes.plot([row["mean_source_tokens"] for row in rows], [row["exact_match"] for row in rows], marker="o", label=name)
    axes.set_xlabel("source length (mean English tokens of the numbers of one digit count, 1-12 digits)")
    axes.set_ylabel("greedy exact match, test numbers")
    axes.set_ylim(-0.02, 1.02)
    axes.grid(alpha=0.3)
    axes.legend()
    axes.set_title("English -> French number words: quality against source length")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def record_in_cards(study, png):
    """Adds the study (table rows and the plot) to each preset's metadata and model card."""
    for name, rows in study.items():
        preset = Preset(name)
        metadata = {**preset.metadata, "length_study": rows, "length_study_png": "length_study.png"}
        (preset.path / "metadata.json").write_text(json.dumps(metadata, indent=1, ensure_ascii=False))
        shutil.copyfile(png, preset.path / "length_study.png")
        write_model_card(preset.path, metadata)


def run_length_study(out, presets=PRESETS, cards=False):
    """Writes length_study.json, length_study.md (a table) and length_study.png to `out`; with `cards`, into the presets too."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    study = {name: by_digit_count(name) for name in presets}
    (out / "length_study.json").write_text(json.dumps(study, indent=1))
    header = "| digits | mean English tokens | " + " | ".join(f"{name} exact match" for name in presets) + " |"
    lines = [header, "|---" * (len(presets) + 2) + "|"]
    for i, row in enumerate(study[presets[0]]):
        lines.append(f"| {row['digits']} | {row['mean_source_tokens']} | " + " | ".join(f"{study[name][i]['exact_match']:.3f}" for name in presets) + " |")
    (out / "length_study.md").write_text("\n".join(lines) + "\n")
    plot(study, out / "length_study.png")
    if cards:
        record_in_cards(study, out / "length_study.png")
    return "\n".join(lines)
