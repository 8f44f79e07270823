"""SMILES checked by RDKit: the one place the zoo reads chemistry (`pip install ".[chem]"` installs RDKit)."""
from zoo.core.errors import ZooError

# A molecule generator writes one SMILES per line: every sample starts after a line end and stops at the next.
LINE_END = "\n"
MAX_SMILES = 120  # characters per sample; MOSES' longest SMILES has 57


def rdkit_chem():
    try:
        from rdkit import Chem, RDLogger
    except ImportError:
        raise ZooError('molecules are checked with RDKit, which is not installed: pip install ".[chem]"') from None
    RDLogger.DisableLog("rdApp.*")  # an unparsable SMILES is a result here ("invalid"), not a warning on stderr
    return Chem


def canonical(smiles):
    """RDKit's canonical SMILES of `smiles`, or None where RDKit cannot read it (an empty string included)."""
    Chem = rdkit_chem()
    molecule = Chem.MolFromSmiles(smiles) if smiles else None
    return Chem.MolToSmiles(molecule) if molecule is not None else None
