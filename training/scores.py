"""What the decoding tasks' cards are scored with: one decoding loop over beam widths, corpus BLEU, and chemistry."""
import numpy as np

from zoo.core.decoding import beam_search_in_batches
from zoo.core.molecules import canonical, rdkit_chem
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


def chemistry_scores(predictions, references):
    """Per prediction: exact match after canonicalisation, validity, and the Tanimoto similarity of Morgan fingerprints
    (radius 2, 2,048 bits) to the reference, 0 when invalid. Averaged over any rows with `mean_scores`."""
    from rdkit import DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    Chem = rdkit_chem()
    fingerprint = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048).GetFingerprint
    forms = [canonical(smiles) for smiles in predictions]
    return {
        "exact_match": np.array([form == reference for form, reference in zip(forms, references)]),
        "valid": np.array([form is not None for form in forms]),
        "tanimoto": np.array([
            DataStructs.TanimotoSimilarity(fingerprint(Chem.MolFromSmiles(form)), fingerprint(Chem.MolFromSmiles(reference))) if form else 0.0
            for form, reference in zip(forms, references)
        ]),
    }


def mean_scores(scores, rows=slice(None)):
    return {key: round(float(np.mean(values[rows])), 4) for key, values in scores.items()}
