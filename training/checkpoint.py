"""Resumable training: the request and the last finished epoch, kept in a folder beside the output.

Only an identical request resumes, so a checkpoint never lends its weights to other options. Each epoch
is committed atomically: its weights (optimizer state included) first, then `progress.json`, each written
under a temporary name and renamed; a run killed at any moment leaves the last committed epoch intact.
"""
import json
import os
import re
import shutil
from pathlib import Path

from zoo.core.errors import ZooError

REQUEST, PROGRESS = "request.json", "progress.json"
WEIGHTS = re.compile(r"epoch-\d+\.weights\.h5")
# What may differ when the user allows resuming on other devices: the weights then match an uninterrupted
# run only up to fp32 summation order.
DEVICE_KEYS = ("devices", "data_parallel")


def describe(request, keys):
    return ", ".join(f"{key} {request.get(key)}" for key in keys)


class Checkpoint:
    def __init__(self, folder, request, restart=False, allow_device_change=False):
        self.folder, self.request = Path(folder), request
        if restart:
            self.remove()
        stored = self.read(REQUEST)
        if stored is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.write(REQUEST, request)
            return
        ignored = DEVICE_KEYS if allow_device_change else ()
        differing = sorted(key for key in set(stored) | set(request) if key not in ignored and stored.get(key) != request.get(key))
        if differing:
            flag = " or --allow-device-change" if set(differing) <= set(DEVICE_KEYS) else ""
            raise ZooError(
                f"{self.folder} holds a run started with {describe(stored, differing)} (this one: {describe(request, differing)}); "
                f"rerun with the same options to resume it, or add --restart{flag}"
            )

    def read(self, name):
        try:
            return json.loads((self.folder / name).read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise ZooError(f"{self.folder / name} is unreadable ({error}); add --restart to start over") from None

    def write(self, name, value):
        temporary = self.folder / f".{name}.{os.getpid()}"
        temporary.write_text(json.dumps(value, indent=1))
        os.replace(temporary, self.folder / name)

    def resume(self, model):
        """Loads the last committed epoch into `model` (compiled, optimizer built); returns its progress, or None."""
        progress = self.read(PROGRESS)
        if progress is None:
            return None
        try:
            model.load_weights(self.folder / progress["weights"])
        except Exception as error:
            raise ZooError(f"cannot resume from {self.folder / progress['weights']} ({str(error).splitlines()[0]}); add --restart to start over") from None
        return progress

    def save(self, model, progress, primary=True):
        """Commits an epoch. Across hosts every process saves (reading distributed weights is collective), and only
        the primary one keeps its file."""
        weights = f"epoch-{progress['epoch']:04d}.weights.h5"
        temporary = self.folder / f".{os.getpid()}-{weights}"  # Keras wants the .weights.h5 ending
        model.save_weights(temporary)
        if not primary:
            temporary.unlink()
            return
        os.replace(temporary, self.folder / weights)
        self.write(PROGRESS, {**progress, "weights": weights})
        for path in self.folder.iterdir():
            if WEIGHTS.fullmatch(path.name) and path.name != weights:
                path.unlink()

    def remove(self):
        """Deletes the folder, which holds only what `Checkpoint` writes."""
        if self.folder.is_dir():
            foreign = [path.name for path in self.folder.iterdir() if path.name not in (REQUEST, PROGRESS) and not WEIGHTS.fullmatch(path.name) and not path.name.startswith(".")]
            if foreign:
                raise ZooError(f"{self.folder} holds files zoo did not write ({', '.join(sorted(foreign)[:3])}); move them before --restart")
            shutil.rmtree(self.folder)
