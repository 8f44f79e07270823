"""Many-to-one classification of surnames by origin: accuracy, macro-F1, a confusion matrix."""
import numpy as np

from training.batches import ArrayBatches
from training.data import surnames
from zoo.core.tokenizers import CharTokenizer

MAX_LENGTH = 48


def prepare(recipe, seed):
    """Tokenizer (characters of every split, labels = locales), shuffled training batches and the validation (inputs, labels)."""
    splits = surnames.load_splits(seed)
    tokenizer = CharTokenizer.fit([" ".join(names) for names, _ in splits.values()], labels=list(surnames.LOCALES.values()))
    train, validation = ((tokenizer.encode_batch(splits[split][0], MAX_LENGTH), splits[split][1]) for split in ("train", "validation"))
    return tokenizer, {"train": ArrayBatches(train, recipe.batch_size, seed), "validation": validation}


def confusion_matrix(labels, predictions, classes):
    matrix = np.zeros((classes, classes), dtype="int64")
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


def macro_f1(matrix):
    true_positives = np.diag(matrix).astype("float64")
    precision = true_positives / np.maximum(matrix.sum(axis=0), 1)
    recall = true_positives / np.maximum(matrix.sum(axis=1), 1)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(f1.mean())


def evaluate(model, tokenizer, seed, split="test"):
    names, labels = surnames.load_splits(seed)[split]
    logits = np.asarray(model.predict_on_batch(tokenizer.encode_batch(names, MAX_LENGTH)))
    matrix = confusion_matrix(labels, logits.argmax(axis=-1), len(tokenizer.labels))
    return {
        "test_accuracy": round(float(np.trace(matrix) / matrix.sum()), 4),
        "test_macro_f1": round(macro_f1(matrix), 4),
        "test_examples": int(matrix.sum()),
        "confusion_matrix": matrix.tolist(),
    }


def plot_confusion_matrix(matrix, labels, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.asarray(matrix, dtype="float64")
    rates = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    figure, axes = plt.subplots(figsize=(9, 8))
    image = axes.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(labels)), labels, rotation=90)
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted origin")
    axes.set_ylabel("true origin")
    axes.set_title("Surname origin, test split (row-normalised)")
    figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def vocabulary_sizes(tokenizer):
    return {"vocab_size": tokenizer.vocab_size, "num_classes": len(tokenizer.labels)}


def held_out_inputs(tokenizer, seed):
    """None: a classifier decodes nothing for the parity gate (its graphs are compared tensor by tensor)."""


def card_extras(model, tokenizer, metrics, folder):
    plot_confusion_matrix(metrics["confusion_matrix"], tokenizer.labels, folder / "confusion_matrix.png")
    return {"confusion_matrix_png": "confusion_matrix.png"}
