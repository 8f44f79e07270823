"""Output folders: one that zoo cannot make, or that holds what zoo did not write, is a one-line error, and
everything stays as it was."""
import pytest

from zoo.core.errors import ZooError
from zoo.core.folders import write_folder


def fill(folder):
    (folder / "result.txt").write_text("new")


def test_an_out_below_a_file_is_refused_and_nothing_is_written(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    with pytest.raises(ZooError, match=f"{notes} is not a folder"):
        write_folder(notes / "deeper" / "out", "study", fill)
    assert list(tmp_path.iterdir()) == [notes] and notes.read_text() == "mine"


def test_a_folder_is_written_whole_and_replaced_only_where_zoo_wrote_it_alone(tmp_path):
    out = write_folder(tmp_path / "out", "study", fill)
    assert (out / "result.txt").read_text() == "new"
    write_folder(out, "study", fill)  # zoo's own folder of the same kind: replaced
    with pytest.raises(ZooError, match="holds a study written by zoo, not a preset"):
        write_folder(out, "preset", fill)
    (out / "thesis.tex").write_text("years of work")
    with pytest.raises(ZooError, match="thesis.tex"):
        write_folder(out, "study", fill)
    assert (out / "thesis.tex").read_text() == "years of work"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]
