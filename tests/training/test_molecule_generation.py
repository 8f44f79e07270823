from training.molecule_generation import generation_metrics, why_invalid


def test_invalid_samples_are_sorted_by_the_rule_they_break():
    cases = {"": "empty", "CC(C": "branch", "CC)C": "branch", "C1CCC": "ring", "C(C)(C)(C)(C)C": "valence", "c1cccc1": "aromaticity", "C==C": "other"}
    assert {smiles: why_invalid(smiles) for smiles in cases} == cases


def test_generation_metrics_count_valid_unique_novel_and_each_broken_rule():
    metrics = generation_metrics(["CCO", "OCC", "c1ccccc1", "C1CC", "c1cccc1"], training_smiles={"CCO"})
    assert (metrics["valid"], metrics["unique_at_10k"], metrics["novelty"]) == (0.6, round(2 / 3, 4), 0.5)
    assert (metrics["invalid_ring"], metrics["invalid_aromaticity"], metrics["invalid_branch"]) == (0.2, 0.2, 0.0)
