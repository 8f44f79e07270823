"""The model card (README.md) of a preset, written from its metadata: every number in it is measured."""


def format_metrics(metrics):
    return "\n".join(f"| {key} | {value} |" for key, value in metrics.items() if key != "confusion_matrix")


def write_model_card(folder, metadata):
    training = metadata["training"]
    lines = [
        f"# {metadata['name']}",
        "",
        metadata["description"],
        "",
        f"- Family: `{metadata['family']}`, task: {metadata['task']}",
        f"- Parameters: {metadata['parameters']:,}",
        f"- Data: {metadata['dataset']}",
        f"- Model: {metadata['recipe']['model']}",
        f"- Trained on the {training['backend']} backend for {training['epochs']} epochs in "
        f"{training['seconds'] / 60:.1f} minutes on {training['machine']}, {training['date']}",
        f"- Reproduce: `{training['command']}`, then `zoo evaluate DIR` recomputes the metrics below",
        f"- Weights sha256: `{metadata['weights_sha256']}`",
        "",
        "## Measured on the held-out split",
        "",
        "| metric | value |",
        "|---|---|",
        format_metrics(metadata["metrics"]),
        "",
    ]
    if "sample" in metadata:
        lines += ["## A sample (temperature 0.8, seed 0, prompt `ROMEO:`)", "", "```", "ROMEO:", metadata["sample"], "```", ""]
    if "examples" in metadata:
        lines += ["## Examples (beam 4)", "", "| English | model | reference |", "|---|---|---|"]
        lines += [f"| {e['source']} | {e['translation']} | {e['reference']} |" for e in metadata["examples"]]
        lines.append("")
    if "length_study" in metadata:
        lines += [
            "## Quality against source length (`zoo study length --cards`)",
            "",
            "Greedy exact match on the test numbers of each digit count; the plot compares both number-word presets.",
            "",
            "| digits | mean English tokens | exact match | token accuracy |",
            "|---|---|---|---|",
        ]
        lines += [f"| {r['digits']} | {r['mean_source_tokens']} | {r['exact_match']} | {r['token_accuracy']} |" for r in metadata["length_study"]]
        lines += ["", f"![quality against source length]({metadata['length_study_png']})", ""]
    if "confusion_matrix_png" in metadata:
        lines += ["## Confusion matrix (test split)", "", f"![confusion matrix]({metadata['confusion_matrix_png']})", ""]
    lines += ["## Training curve", "", "Loss: cross-entropy in nats per prediction; accuracy: of the top prediction.", "", "| epoch | " + " | ".join(training["history"]) + " |", "|---" * (len(training["history"]) + 1) + "|"]
    for epoch, values in enumerate(zip(*training["history"].values()), start=1):
        lines.append(f"| {epoch} | " + " | ".join(str(value) for value in values) + " |")
    (folder / "README.md").write_text("\n".join(lines) + "\n")
