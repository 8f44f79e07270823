"""Surnames -> origin, from the person providers of PyPI `faker`: 18 Latin-script locales."""
import collections
import importlib

import numpy as np

# One locale per language, all written in the Latin alphabet, so the script alone gives nothing away.
LOCALES = {
    "ga_IE": "Irish", "sk_SK": "Slovak", "it_IT": "Italian", "es_ES": "Spanish", "nl_NL": "Dutch",
    "en_US": "English", "hr_HR": "Croatian", "zu_ZA": "Zulu", "sv_SE": "Swedish", "et_EE": "Estonian",
    "de_DE": "German", "fi_FI": "Finnish", "fr_FR": "French", "cs_CZ": "Czech", "id_ID": "Indonesian",
    "sl_SI": "Slovenian", "lv_LV": "Latvian", "hu_HU": "Hungarian",
}
SPLIT_FRACTIONS = {"validation": 0.1, "test": 0.1}


def surnames_by_locale():
    """Surnames of each locale; a surname listed under two or more locales is dropped (its label is ambiguous)."""
    try:
        importlib.import_module("faker")
    except ImportError as error:
        raise FileNotFoundError("the surname data needs the package `faker`: pip install 'attention-zoo[train]'") from error
    names = {}
    for locale in LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        found = set()
        for attribute in ("last_names", "last_names_male", "last_names_female"):
            found |= set(getattr(provider, attribute, ()))
        names[locale] = found
    counts = collections.Counter(name for found in names.values() for name in found)
    return {locale: sorted(name for name in found if counts[name] == 1) for locale, found in names.items()}


def load_splits(seed=0):
    """Stratified split: {"train", "validation", "test"} -> (surnames, locale indices)."""
    rng = np.random.default_rng(seed)
    splits = {"train": ([], []), "validation": ([], []), "test": ([], [])}
    for label, (locale, names) in enumerate(surnames_by_locale().items()):
        names = [names[i] for i in rng.permutation(len(names))]
        cut_test = round(len(names) * SPLIT_FRACTIONS["test"])
        cut_validation = cut_test + round(len(names) * SPLIT_FRACTIONS["validation"])
        for split, part in (("test", names[:cut_test]), ("validation", names[cut_test:cut_validation]), ("train", names[cut_validation:])):
            splits[split][0].extend(part)
            splits[split][1].extend([label] * len(part))
    return {split: (names, np.array(labels, dtype="int32")) for split, (names, labels) in splits.items()}
