"""`zoo refresh`: rewrites a preset with today's code, its metrics re-measured rather than retrained.

What changes is how the preset is stored (weights without optimizer state, the encoded held-out inputs,
metadata and card as today's writers make them). The metrics written are today's measurements: a beam search
may break a near-tie differently and move a BLEU score by a hundredth, which is printed; a move of more than
`TOLERANCE` (relative, or 1e-3 absolute) means the preset is no longer the same model, and stops it.
"""
import sys

from training.fit import DESCRIPTION, write_preset
from training.recipes import RECIPES
from zoo.core.errors import ZooError
from zoo.core.folders import write_folder
from zoo.presets import Preset

TOLERANCE = 0.01


def refresh(name_or_dir, out):
    preset = Preset(name_or_dir)
    if preset.name not in RECIPES:
        raise ZooError(f"no recipe for {preset.name!r}: refresh re-measures a preset with its recipe's task")
    task = RECIPES[preset.name].task_module
    model = preset.load_model()
    training = preset.metadata["training"]
    metrics = task.evaluate(model, preset.tokenizer, training["seed"])
    recorded = preset.metadata["metrics"]
    moved = {key: (recorded[key], value) for key, value in metrics.items() if isinstance(value, float) and key in recorded and value != recorded[key]}
    if moved:
        print(f"{preset.name} re-measured: " + "; ".join(f"{key} {old} -> {new}" for key, (old, new) in moved.items()), file=sys.stderr)
    too_far = [key for key, (old, new) in moved.items() if abs(new - old) > max(1e-3, TOLERANCE * abs(old))]
    if too_far:
        raise ZooError(f"{preset.name} measures differently with today's code ({', '.join(too_far)}): retrain it instead")
    description = {key: preset.metadata[key] for key in DESCRIPTION}
    return write_folder(out, "preset", lambda folder: write_preset(folder, description, task, model, preset.tokenizer, metrics, training))
