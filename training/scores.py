"""Corpus-level scores shared by the translation and captioning tasks."""


def corpus_bleu(hypotheses, references):
    """sacrebleu corpus BLEU (default 13a tokenisation, cased), one reference per hypothesis, rounded to 0.01."""
    import sacrebleu

    return round(sacrebleu.corpus_bleu(hypotheses, [references]).score, 2)
