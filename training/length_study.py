"""Quality against source length, one line per model (Bahdanau et al. 2015, figure 2).

Each translation task says how it buckets its test sources and what it scores (`length_rows`,
`LENGTH_SCORE`): exact match per digit count for number words, corpus BLEU per verse length for the Bible.
"""
import json
import shutil

from training.model_card import write_model_card
from training.recipes import RECIPES
from zoo.core.folders import check_output_folder, mark, write_folder
from zoo.presets import Preset

STUDIES = {
    "numbers": ("seq2seq_en_fr_numbers", "attention_en_fr_numbers"),
    "bible": ("seq2seq_en_fr_bible", "attention_en_fr_bible"),
}


def task_of(presets):
    tasks = {RECIPES[name].task_module for name in presets}
    if len(tasks) != 1:
        raise ValueError(f"a length study compares presets of one task; {', '.join(presets)} are of several")
    return tasks.pop()


def plot(study, task, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for name, rows in study.items():
        axes.plot([row["mean_source_words"] for row in rows], [row[task.LENGTH_SCORE] for row in rows], marker="o", label=name)
    axes.set_xlabel(f"source length (mean English words per bucket: {task.LENGTH_BUCKETING})")
    axes.set_ylabel(f"greedy {task.LENGTH_SCORE.replace('_', ' ')}, test set")
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend()
    axes.set_title(f"{task.TITLE}: quality against source length")
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
        mark(preset.path, "preset")


def run_length_study(out, presets, cards=False):
    """Writes length_study.json, length_study.md (a table) and length_study.png to the folder `out`; with `cards`,
    into the presets too."""
    task = task_of(presets)
    check_output_folder(out, "length study")  # before minutes of decoding; `write_folder` checks again
    study = {}
    for name in presets:
        preset = Preset(name)
        study[name] = task.length_rows(preset.load_model(), preset.tokenizer, preset.metadata["training"]["seed"])
    first = study[presets[0]]
    lines = ["| source length | sources | mean English words | " + " | ".join(f"{name} {task.LENGTH_SCORE}" for name in presets) + " |", "|---" * (len(presets) + 3) + "|"]
    for i, row in enumerate(first):
        lines.append(f"| {row['length']} | {row['count']} | {row['mean_source_words']} | " + " | ".join(f"{study[name][i][task.LENGTH_SCORE]}" for name in presets) + " |")

    def fill(folder):
        (folder / "length_study.json").write_text(json.dumps(study, indent=1))
        (folder / "length_study.md").write_text("\n".join(lines) + "\n")
        plot(study, task, folder / "length_study.png")

    out = write_folder(out, "length study", fill)
    if cards:
        record_in_cards(study, out / "length_study.png")
    return "\n".join(lines)
