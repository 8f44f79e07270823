"""Output folders that never lose a user's files: written whole under a temporary name, then swapped in.

A folder the tool writes holds a marker (`MARKER`) listing every file it wrote. An `--out` folder must be
absent, empty, or such a folder holding nothing else; replacing it keeps only what the tool writes.
"""
import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path

from zoo.core.errors import ZooError

MARKER = ".attention-zoo.json"


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def written_files(folder):
    """Paths under `folder` (relative, sorted), the marker excluded."""
    return sorted(str(path.relative_to(folder)) for path in Path(folder).rglob("*") if path.is_file() and path.name != MARKER)


def check_output_folder(out, kind):
    """Refuses, in one line naming the folder, an `out` that is not absent (and makeable), empty, or a `kind` folder the
    tool wrote alone."""
    out = Path(out)
    if not out.exists():
        above = next(parent for parent in out.absolute().parents if parent.exists())
        if not above.is_dir():
            raise ZooError(f"{out} cannot be made: {above} is not a folder; choose another --out")
        return
    if not out.is_dir():
        raise ZooError(f"{out} exists and is not a folder; choose another --out")
    if not any(out.iterdir()):
        return
    marker = out / MARKER
    try:
        written = json.loads(marker.read_text())
        if written["kind"] != kind:
            raise ZooError(f"{out} holds a {written['kind']} written by zoo, not a {kind}; choose another --out")
        listed = set(written["files"])
    except (OSError, ValueError, KeyError, TypeError):
        raise ZooError(f"{out} is not empty and was not written by zoo; choose an absent or empty --out") from None
    foreign = [name for name in written_files(out) if name not in listed]
    if foreign:
        raise ZooError(f"{out} holds files zoo did not write ({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}); move them or choose another --out")


def sibling(out, purpose):
    """A new empty folder beside `out`, named uniquely for this process: concurrent writers never share one."""
    out = Path(out)
    folder = out.with_name(f"{out.name}.{purpose}-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir()
    except OSError as error:
        raise ZooError(f"cannot write beside {out}: {error.strerror}; choose another --out") from None
    return folder


def mark(folder, kind):
    """Records every file now in `folder` as written by zoo."""
    (Path(folder) / MARKER).write_text(json.dumps({"kind": kind, "files": written_files(folder)}, indent=1))


def publish(staging, out, kind):
    """Marks `staging` as a `kind` folder and swaps it in for `out` (checked again: it may have changed meanwhile)."""
    staging, out = Path(staging), Path(out)
    mark(staging, kind)
    check_output_folder(out, kind)
    retired = None
    if out.exists():
        retired = sibling(out, "replaced")
        os.replace(out, retired / out.name)
    os.replace(staging, out)
    if retired is not None:
        shutil.rmtree(retired)


def write_folder(out, kind, fill):
    """Checks `out`, calls `fill(staging)` to write the content, then publishes it; a failure leaves `out` as it was."""
    check_output_folder(out, kind)
    staging = sibling(out, "partial")
    try:
        fill(staging)
        publish(staging, out, kind)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Path(out)
