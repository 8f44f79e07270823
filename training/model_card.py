"""The model card (README.md) of a preset, written from its metadata: every number in it is measured."""


def format_metrics(metrics):
    return "\n".join(f"| {key} | {value} |" for key, value in metrics.items() if key != "confusion_matrix")


def trained(training):
    """How the preset was trained, in one line; older presets recorded fewer of these facts."""
    devices = f"{training['data_parallel']} device{'s' if training['data_parallel'] > 1 else ''} ({', '.join(training['devices'])})" if "devices" in training else "devices not recorded"
    steps = f" = {training['steps']:,} steps of {training['batch_size']}" if "steps" in training else ""
    return (
        f"Trained on the {training['backend']} backend, {devices}, for {training['epochs']} epoch{'s' * (training['epochs'] != 1)}{steps} in "
        f"{training['seconds'] / 60:.1f} minutes on {training['machine']}, {training['date']}"
        + (f", code at commit `{training['commit'][:12]}`" if training.get("commit") else "")
    )


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
        f"- {trained(training)}",
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
    if "grounding_uniform_baseline" in metadata["metrics"]:
        lines += [
            "Attention grounding, on the greedy captions: for each generated phrase `a(n) ITEM at the POSITION`, matched in order "
            "to the scene's items in reading order, `grounding_<step>_mass` is the share of the attention at that step (the article, "
            "the first item word, the first position word) inside the item's true cell, and `grounding_<step>_top_cell` how often that "
            "cell gets more attention than any other of the 9. Uniform attention scores `grounding_uniform_baseline` (1/9) on both.",
            "",
        ]
    if "attention_agent_mass" in metadata["metrics"]:
        lines += [
            "`success`: the moves, executed in the simulator (`training/data/gridworld.py`), reach the goal without entering a wall or "
            "leaving the grid; `optimal`: they succeed in as many moves as BFS's shortest path; `exact_match`: they are BFS's path, "
            "ties broken in the order up, down, left, right. Attention, at each move of the successful greedy paths: "
            "`attention_agent_mass` is the share on the agent's cell before that move, `attention_goal_mass` on the goal's, "
            "`attention_walls_mass` on all walls together, each beside what uniform attention over the 36 cells gives (`..._uniform`); "
            "`attention_agent_top_cell` is how often the agent's cell gets the most.",
            "",
        ]
    if "atom_attention_mass" in metadata["metrics"]:
        lines += [
            "`exact_match`: the SMILES read is the caption after RDKit canonicalisation; `valid`: RDKit parses it; `tanimoto`: "
            "similarity of Morgan fingerprints (radius 2, 2,048 bits) to the true molecule, 0 when invalid. Atom grounding, on the "
            "greedy captions: at each atom symbol written, `atom_attention_mass` is the attention on the grid cells whose centre lies "
            "within 14 pixels (about a bond) of that atom's drawn position, beside what uniform attention over the 100 cells puts "
            "there (`atom_attention_uniform`), and `atom_top_cell` how often the cell under the atom gets the most. `atom_*` counts "
            "the captions read right throughout (RDKit's `_smilesAtomOutputOrder` then maps each written atom to a drawn one); "
            "`prefix_atom_*` every caption up to its first wrong symbol.",
            "",
            "Sizing: 2 epochs of 100,000 drawings, the time above on two CPU cores; DECIMER, Img2Mol and MolScribe train on "
            "millions of images for days on GPUs. Read the metrics above as what that budget buys, not as a usable reader.",
            "",
        ]
    if "character_attention_mass" in metadata["metrics"]:
        lines += [
            "`character_error_rate` and `word_error_rate`: edit distance of the reading to the line, in characters or words, over "
            "the line's length, summed over the test lines; `word_accuracy`: the share of the line's words read, in order (their "
            "longest common subsequence); `exact_match`: whole lines. Character grounding, on the greedy readings: at each letter "
            "written while the reading is still right, `character_attention_mass` is the attention on the grid columns (all their rows) "
            "that overlap the letter's drawn x-extent, which the renderer knows, beside what uniform attention puts there "
            "(`character_attention_uniform`); `character_top_cell` is how often the most attended cell lies in those columns. "
            "The test lines use held-out words in a held-out face.",
            "",
        ]
    if "question_only_accuracy" in metadata["metrics"]:
        lines += [
            "`accuracy`: the answer decoded is the true one, overall and per kind of question (`what` is at a cell, an item or "
            "\"nothing\"; `where` is an item; `count`, \"none\" to \"three\"; `exists`, yes or no). `question_only_accuracy` answers "
            "each test question with the answer the training set gives it most often: the best any model that ignores the image "
            "can do on these questions. Grounding, at the first answer step (the step that must answer): `grounding_<kind>_mass` is "
            "the share of the attention in the cells the question is about (the cell asked about; the item's cell; every cell holding "
            "the item, for `count` and `exists` questions about an item the scene holds), `grounding_<kind>_top_cell` how often one "
            "of them gets the most, and `grounding_<kind>_uniform` what uniform attention puts there.",
            "",
        ]
    if "sample_valid" in metadata["metrics"]:
        lines += [
            "MOSES' generator metrics on 10,000 samples at temperature 1 (`zoo evaluate` redraws them): `sample_valid` is the share "
            "RDKit parses, `sample_unique_at_10k` the share of distinct canonical forms among the valid ones, `sample_novelty` the "
            "share of those not in the training molecules. `moses_charrnn_*` is the published MOSES CharRNN (a 3-layer LSTM of 768 "
            "units, about 15 times this model's parameters) for comparison. `sample_invalid_<rule>` is the share of all samples "
            "that breaks that rule: `branch` (unbalanced parentheses) and `ring` (a ring bond left open) RDKit cannot parse; "
            "`valence` and `aromaticity` (no Kekule form) it parses but cannot sanitise; `empty` is a line end first.",
            "",
        ]
    if "molecules" in metadata:
        lines += ["## Samples (temperature 1.0, seed 1, RDKit's verdict)", "", "| sampled SMILES | canonical form (RDKit) |", "|---|---|"]
        lines += [f"| `{m['smiles']}` | " + (f"`{m['canonical']}`" if m["canonical"] else "invalid") + " |" for m in metadata["molecules"]]
        lines.append("")
    if "sample" in metadata:
        lines += ["## A sample (temperature 0.8, seed 0, prompt `ROMEO:`)", "", "```", "ROMEO:", metadata["sample"], "```", ""]
    if "sample_metrics" in metadata:
        lines += ["## Measured on the sample the tests recompute (the task's `evaluate(..., split=\"sample\")`)", "", "| metric | value |", "|---|---|", format_metrics(metadata["sample_metrics"]), ""]
    if "examples" in metadata:
        lines += [f"## Examples ({metadata.get('examples_decoding', 'beam 4')}, shown as they come out)", "", "| input | model | reference |", "|---|---|---|"]
        lines += [f"| {e['source']} | {e['translation']} | {e['reference']} |" for e in metadata["examples"]]
        lines.append("")
    if "overlay_png" in metadata:
        lines += ["## Attention over the first example's image, one panel per generated token", "", f"![attention overlay]({metadata['overlay_png']})", ""]
    if "alignment_png" in metadata:
        lines += [
            "## Attention over the first example's audio",
            "",
            "The log-mel spectrogram (darker is louder), and under it one row per written character (`␣` a space): darker is more "
            "attention, each of the listener's positions spanning the 80 ms it summarises.",
            "",
            f"![spectrogram and attention]({metadata['alignment_png']})",
            "",
        ]
    if "length_study" in metadata:
        rows = metadata["length_study"]
        lines += [
            "## Quality against source length (`zoo study length --cards`)",
            "",
            "Greedy decoding of the test set, bucketed by source length; the plot compares this preset with its sibling.",
            "",
            "| " + " | ".join(rows[0]) + " |",
            "|---" * len(rows[0]) + "|",
        ]
        lines += ["| " + " | ".join(str(value) for value in row.values()) + " |" for row in rows]
        lines += ["", f"![quality against source length]({metadata['length_study_png']})", ""]
    if "confusion_matrix_png" in metadata:
        lines += ["## Confusion matrix (test split)", "", f"![confusion matrix]({metadata['confusion_matrix_png']})", ""]
    lines += ["## Training curve", "", "Loss: cross-entropy in nats per prediction; accuracy: of the top prediction.", "", "| epoch | " + " | ".join(training["history"]) + " |", "|---" * (len(training["history"]) + 1) + "|"]
    for epoch, values in enumerate(zip(*training["history"].values()), start=1):
        lines.append(f"| {epoch} | " + " | ".join(str(value) for value in values) + " |")
    (folder / "README.md").write_text("\n".join(lines) + "\n")
