"""English -> French Bible verses: subword vocabularies, length-bucketed training, BLEU by source length."""
from training.batches import LengthBuckets
from training.data import bible
from training.scores import corpus_bleu, decode_widths
from training.translation import teacher_forcing, vocabulary_sizes  # noqa: F401 (vocabulary_sizes: task interface)
from zoo.core.tokenizers import SubwordTokenizer, TokenizerPair

SOURCE_VOCABULARY, TARGET_VOCABULARY = 8_000, 4_000
TRAIN_MAX_TOKENS = 80  # training pairs longer than this (in either language, end token included) are left out: 2%
MAX_LENGTH = 160  # subword tokens, source and translation; the longest test verse has 100
# English words per verse; Bahdanau et al. bucket by length in the same way.
LENGTH_BUCKETS = ((1, 9), (10, 19), (20, 29), (30, 39), (40, 49), (50, 100))
TITLE = "English -> French Bible verses"
LENGTH_SCORE = "bleu"
LENGTH_BUCKETING = "verses of 1-9, 10-19, ... 50+ words"
OUT_OF_DOMAIN = (
    "The agreement on the European Economic Area was signed in August 1992.",
    "The cat is sleeping on the table.",
    "Where is the train station?",
)


def prepare(recipe, seed):
    splits = bible.load_splits()
    english, french = splits["train"]
    tokenizer = TokenizerPair(SubwordTokenizer.fit(english, SOURCE_VOCABULARY), SubwordTokenizer.fit(french, TARGET_VOCABULARY))
    short = [i for i, (e, f) in enumerate(zip(english, french)) if len(tokenizer.source.encode(e)) <= TRAIN_MAX_TOKENS and len(tokenizer.target.encode(f)) <= TRAIN_MAX_TOKENS]
    train = teacher_forcing(tokenizer, [english[i] for i in short], [french[i] for i in short])
    return tokenizer, {"train": LengthBuckets(train, recipe.batch_size, seed), "validation": teacher_forcing(tokenizer, *splits["validation"])}


def held_out_inputs(tokenizer, seed):
    """Source ids of the test verses, which the parity gate decodes."""
    return tokenizer.source.encode_batch(bible.load_splits()["test"][0])


def bleu_by_length(sources, references, hypotheses):
    """Corpus BLEU of the verses in each English-length bucket."""
    words = [len(source.split()) for source in sources]
    rows = []
    for low, high in LENGTH_BUCKETS:
        picked = [i for i, count in enumerate(words) if low <= count <= high]
        rows.append({
            "length": f"{low}-{high} words",
            "count": len(picked),
            "mean_source_words": round(sum(words[i] for i in picked) / max(len(picked), 1), 1),
            "bleu": corpus_bleu([hypotheses[i] for i in picked], [references[i] for i in picked]),
        })
    return rows


def translations(model, tokenizer, sources, beam_widths):
    """{decoding: texts} of `sources` for each beam width."""
    decoded = decode_widths(model, tokenizer.source.encode_batch(sources), MAX_LENGTH, beam_widths)
    return {decoding: [tokenizer.target.decode(result["ids"]) for result in results] for decoding, results in decoded.items()}


def evaluate(model, tokenizer, seed, split="test", beam_widths=(1, 4)):
    """Corpus BLEU (sacrebleu, default 13a tokenisation, cased) of greedy and beam decoding, overall and per source-length bucket."""
    sources, references = bible.load_splits()[split]
    metrics = {f"{split}_verses": len(sources)}
    for decoding, hypotheses in translations(model, tokenizer, sources, beam_widths).items():
        metrics[f"{split}_{decoding}_bleu"] = corpus_bleu(hypotheses, references)
        for row in bleu_by_length(sources, references, hypotheses):
            metrics[f"{decoding}_bleu_{row['length'].replace('-', '_').replace(' ', '_')}"] = row["bleu"]
    return metrics


def length_rows(model, tokenizer, seed):
    """Greedy corpus BLEU on the test verses of each length bucket."""
    sources, references = bible.load_splits()["test"]
    return bleu_by_length(sources, references, translations(model, tokenizer, sources, (1,))["greedy"])


def card_extras(model, tokenizer, metrics, folder):
    sources, references = bible.load_splits()["test"]
    picked = [0, 100, 300]
    texts = [sources[i] for i in picked] + list(OUT_OF_DOMAIN)
    outputs = translations(model, tokenizer, texts, (4,))["beam4"]
    references = [references[i] for i in picked] + ["(out of domain, no reference)"] * len(OUT_OF_DOMAIN)
    return {"examples": [{"source": s, "translation": t, "reference": r} for s, t, r in zip(texts, outputs, references)]}
