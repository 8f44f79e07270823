import numpy as np
import pytest

from zoo.core.decoding import sample_next, sample_smiles
from zoo.core.errors import ZooError
from zoo.core.molecules import MAX_SMILES, canonical
from zoo.core.tokenizers import CharTokenizer


def test_rdkit_canonicalises_valid_smiles_and_reports_the_others_as_none():
    assert canonical("OC(=O)c1ccccc1OC(C)=O") == canonical("CC(=O)Oc1ccccc1C(=O)O") == "CC(=O)Oc1ccccc1C(=O)O"
    for invalid in ("", "C1CC", "C(", "c1ccccc", "Xx", "C" * 5 + ")"):
        assert canonical(invalid) is None


def test_sampling_draws_each_row_from_its_own_distribution():
    rng = np.random.default_rng(0)
    logits = np.log(np.array([[0.7, 0.2, 0.1], [0.0, 0.0, 1.0]]) + 1e-12).astype("float32")
    draws = np.stack([sample_next(logits, 1.0, rng) for _ in range(4000)])
    np.testing.assert_allclose(np.bincount(draws[:, 0], minlength=3) / 4000, [0.7, 0.2, 0.1], atol=0.03)
    assert (draws[:, 1] == 2).all() and sample_next(logits, 0, rng).tolist() == [0, 2]


def test_smiles_samples_end_at_a_line_end_within_the_limit_and_unknown_prefix_characters_are_refused():
    from zoo.models import VanillaRNN
    from zoo.runner import KerasRunner

    tokenizer = CharTokenizer.fit(["CCO\n(=)1N"])
    model = VanillaRNN(tokenizer.vocab_size, 8, 16, 2)
    model.build_for_inputs()
    samples = sample_smiles(KerasRunner(model), tokenizer, "C(", 50, 1.0, np.random.default_rng(0))
    assert len(samples) == 50 and all(s.startswith("C(") and "\n" not in s and len(s) <= 2 + MAX_SMILES for s in samples)
    assert len(set(samples)) > 1
    for prefix in ("C@", "C\nC"):
        with pytest.raises(ZooError, match="outside the model's 7-character alphabet"):
            sample_smiles(KerasRunner(model), tokenizer, prefix, 3, 1.0, np.random.default_rng(0))
