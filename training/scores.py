"""What the decoding tasks' cards are scored with: one decoding loop over beam widths, and corpus BLEU."""
from zoo.core.decoding import beam_search_in_batches
from zoo.runner import KerasRunner

DECODING_BATCH = 256


def decoding_name(width):
    return "greedy" if width == 1 else f"beam{width}"


def decode_widths(model, inputs, max_length, beam_widths):
    """{"greedy" | "beamK": `beam_search` results} of the Keras model on encoder inputs, for each beam width."""
    runner = KerasRunner(model)
    return {decoding_name(width): beam_search_in_batches(runner, inputs, max_length, width, DECODING_BATCH) for width in beam_widths}


def corpus_bleu(hypotheses, references):
    """sacrebleu corpus BLEU (default 13a tokenisation, cased), one reference per hypothesis, rounded to 0.01."""
    import sacrebleu

    return round(sacrebleu.corpus_bleu(hypotheses, [references]).score, 2)
