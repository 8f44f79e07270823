"""The `zoo` command: list, train, evaluate, export and parity-check presets."""
import json
import os
import sys

from zoo.core.backends import BACKENDS
from zoo.core.errors import ArgumentParser, ZooError
from zoo.core.folders import check_output_folder
from zoo.core.manifest import read_manifest


def use_backend(backend, host_devices=None):
    """Selects the Keras backend (and, for jax, how many CPU devices to expose); it must happen before keras is
    first imported, which is checked."""
    if host_devices and os.environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES"):
        os.environ.setdefault("JAX_CPU_COLLECTIVES_IMPLEMENTATION", "gloo")  # collectives between processes on CPU hosts
    elif host_devices:
        # Devices of one host share its cores: on a busy machine an all-reduce can wait past XLA's default 40 s, or
        # stall for good (README); 600 s lets the first finish and ends the second.
        flags = f"--xla_force_host_platform_device_count={host_devices} --xla_cpu_collective_call_terminate_timeout_seconds=600"
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flags}".strip()
    if backend:
        os.environ["KERAS_BACKEND"] = backend
        if "keras" in sys.modules and sys.modules["keras"].backend.backend() != backend:
            raise ZooError(f"keras was imported with the {sys.modules['keras'].backend.backend()} backend before --backend {backend} took effect")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def split_list(text, allowed, what):
    items = [item.strip() for item in text.split(",") if item.strip()]
    unknown = [item for item in items if item not in allowed]
    if unknown or not items:
        raise ZooError(f"unknown {what} {', '.join(unknown) or repr(text)}; choose from {', '.join(allowed)}")
    return items


def list_command(arguments):
    from zoo.presets import list_presets

    rows = list_presets()
    if arguments.names:
        print("\n".join(row["name"] for row in rows))
        return
    if arguments.json:
        print(json.dumps(rows, indent=1))
        return
    widths = {column: max(len(column), *(len(row[column]) for row in rows)) for column in ("name", "family", "task")}
    print(" ".join(f"{column:<{width}}" for column, width in widths.items()) + f" {'parameters':>10}  headline metrics")
    for row in rows:
        headline = ", ".join(f"{key}={value}" for key, value in row["metrics"].items() if isinstance(value, float))
        print(" ".join(f"{row[column]:<{width}}" for column, width in widths.items()) + f" {row['parameters']:>10,}  {headline}")


def train_command(arguments):
    from zoo.presets import preset_names  # every preset has a recipe (tests/training/test_recipes.py)

    # The name and the folder at once: the training code takes seconds to import.
    names = preset_names()
    if arguments.name not in names:
        raise ZooError(f"no recipe for {arguments.name!r}; presets that can be trained: {', '.join(names)}")
    use_backend(arguments.backend, arguments.data_parallel)
    out = arguments.out or os.path.join("runs", arguments.name)
    check_output_folder(os.path.abspath(out), "preset")
    from training.fit import train

    command = " ".join(["zoo", *sys.argv[1:]])
    written = train(
        arguments.name, out, epochs=arguments.epochs, seed=arguments.seed, restart=arguments.restart,
        data_parallel=arguments.data_parallel, allow_device_change=arguments.allow_device_change, command=command,
    )
    print(f"wrote preset folder {out}" if written else "trained; the first process writes the preset folder")


def evaluate_command(arguments):
    use_backend(arguments.backend)
    from training.recipes import RECIPES
    from zoo.presets import Preset

    preset = Preset(arguments.preset)
    if preset.name not in RECIPES:
        raise ZooError(f"no recipe for {preset.name!r}: its held-out split is unknown here")
    model = preset.load_model()
    task = RECIPES[preset.name].task_module
    if arguments.sample and "sample_metrics" not in preset.metadata:
        raise ZooError(f"{preset.name} has no sample split: --sample is for the scene captioner, the question answerer, the speller and the two character language models")
    if arguments.validation and "validation" not in getattr(task, "EVALUATED_SPLITS", ()):
        raise ZooError(f"{preset.name} is not scored on validation scenes: --validation is for the scene captioner")
    split = {"split": "sample"} if arguments.sample else {"split": "validation"} if arguments.validation else {}
    measured = task.evaluate(model, preset.tokenizer, preset.metadata["training"]["seed"], **split)
    if arguments.json:
        print(json.dumps({"preset": preset.name, "metrics": measured}, indent=1))
        return
    card = {} if arguments.validation else preset.metadata["sample_metrics" if arguments.sample else "metrics"]  # no card scores validation
    print(f"{'metric':<30} {'model card':>12} {'measured now':>14}")
    for key, value in measured.items():
        if isinstance(value, (int, float)):
            print(f"{key:<30} {card.get(key, '-')!s:>12} {value!s:>14}")


def refresh_command(arguments):
    use_backend(arguments.backend)
    from training.refresh import refresh

    print(f"wrote preset folder {refresh(arguments.preset, arguments.out)}")


def export_command(arguments):
    from export.artifact import FORMATS, export_preset

    formats = split_list(arguments.formats, FORMATS, "format")
    out = export_preset(arguments.preset, arguments.out, formats, arguments.opset)
    print(f"wrote artifact {out} (graphs traced under the tensorflow backend; parity against Keras-tensorflow passed)")


def parity_command(arguments):
    from export.parity import check_parity, failures, format_report, format_summary

    if arguments.summary:
        print(format_summary([read_manifest(folder) for folder in arguments.artifacts]))
        return
    if len(arguments.artifacts) > 1:
        raise ZooError("zoo parity checks one artifact at a time; --summary reads several")
    backends = split_list(arguments.backends, BACKENDS, "backend")
    providers = split_list(arguments.providers, ("cpu", "cuda"), "provider")
    report = check_parity(arguments.artifacts[0], backends, ["cpu", *[p for p in providers if p != "cpu"]])
    print(format_report(report))
    if not report["passed"]:
        raise ZooError(f"parity failed: {failures(report)}")


def study_command(arguments):
    use_backend(arguments.backend)
    from training.length_study import STUDIES, run_length_study

    presets = STUDIES[arguments.task]
    out = arguments.out or f"runs/length_study_{arguments.task}"
    print(run_length_study(out, presets, cards=arguments.cards))
    print(f"wrote {out}/length_study.png, .md and .json")


def parse_arguments(argv):
    parser = ArgumentParser(prog="zoo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="presets with family, task, size and headline metrics")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--names", action="store_true", help="one preset name per line")
    listing.set_defaults(run=list_command)

    training = commands.add_parser(
        "train", help="retrain a preset from scratch on its real data",
        description="Retrains a preset from scratch. Every finished epoch is checkpointed in OUT.checkpoint; rerunning the same "
        "command resumes it and ends with the weights an uninterrupted run gives.",
    )
    training.add_argument("name")
    training.add_argument("--backend", choices=BACKENDS)
    training.add_argument("--epochs", type=int, help="default: the recipe's")
    training.add_argument("--seed", type=int, default=0)
    training.add_argument(
        "--out", help="preset folder to write (default runs/NAME): absent, empty, or a preset folder zoo wrote holding nothing else; "
        "it is replaced by exactly the files zoo writes",
    )
    training.add_argument("--restart", action="store_true", help="discard OUT.checkpoint, left by an earlier run, and start over")
    training.add_argument("--data-parallel", type=int, metavar="N", help="jax: split each batch over N devices (GPUs, else N CPU devices) with keras.distribution")
    training.add_argument("--allow-device-change", action="store_true", help="resume a checkpoint written on another number of devices")
    training.set_defaults(run=train_command)

    evaluation = commands.add_parser("evaluate", help="recompute a preset's metrics on its held-out split")
    evaluation.add_argument("preset", help="preset name or folder")
    evaluation.add_argument("--backend", choices=BACKENDS)
    evaluation.add_argument("--json", action="store_true")
    split = evaluation.add_mutually_exclusive_group()
    split.add_argument("--sample", action="store_true", help="the scene captioner and question answerer: score the shipped sample of test scenes (the captioner needs no Debian package; "
        "the answerer's question-only baseline reads the training labels from it); the speller: the parity gate's 64 test utterances; "
        "the molecule generator: fewer molecules and samples; the Shakespeare model: the first 16,385 characters of the test plays")
    split.add_argument("--validation", action="store_true", help="the scene captioner: score 500 validation scenes, composed from training images with the run's "
        "seed, instead of the test scenes: for choosing among runs without looking at the test set")
    evaluation.set_defaults(run=evaluate_command)

    refreshing = commands.add_parser("refresh", help="rewrite a preset with today's code, its metrics re-measured, not retrained")
    refreshing.add_argument("preset", help="preset name or folder")
    refreshing.add_argument("--out", required=True, help="preset folder to write: absent, empty, or a preset folder zoo wrote holding nothing else")
    refreshing.add_argument("--backend", choices=BACKENDS)
    refreshing.set_defaults(run=refresh_command)

    exporting = commands.add_parser("export", help="write an artifact folder: ONNX, SavedModel, manifest")
    exporting.add_argument("preset", help="preset name or folder")
    exporting.add_argument(
        "--out", required=True, help="artifact folder to write: absent, empty, or an artifact folder zoo wrote holding nothing else; "
        "it is replaced by exactly the files zoo writes",
    )
    exporting.add_argument("--formats", default="onnx,savedmodel")
    exporting.add_argument("--opset", type=int, default=17, help="ONNX opset, 14 to 18 (default 17)")
    exporting.set_defaults(run=export_command)

    parity = commands.add_parser("parity", help="check an artifact against Keras on each backend")
    parity.add_argument("artifacts", nargs="+", metavar="OUT")
    parity.add_argument("--summary", action="store_true", help="print the reports stored in the artifacts' manifests as one table, checking nothing")
    parity.add_argument("--backends", default=",".join(BACKENDS))
    parity.add_argument("--providers", default="cpu,cuda")
    parity.set_defaults(run=parity_command)
    study = commands.add_parser("study", help="studies across presets; `length`: quality against source length")
    study.add_argument("kind", choices=["length"])
    study.add_argument("--task", choices=["numbers", "bible"], default="numbers", help="compare the two presets of this translation task (default numbers)")
    study.add_argument("--backend", choices=BACKENDS)
    study.add_argument("--out", help="default runs/length_study_TASK")
    study.add_argument("--cards", action="store_true", help="also record the study in the presets' metadata and model cards")
    study.set_defaults(run=study_command)
    return parser.parse_args(argv)


def main(argv=None):
    arguments = parse_arguments(argv)
    try:
        arguments.run(arguments)
    except ZooError as error:
        sys.exit(f"error: {error}")
    except (FileNotFoundError, ModuleNotFoundError) as error:
        sys.exit(f"error: {error}")
