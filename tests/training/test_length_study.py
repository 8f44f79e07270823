from tests.conftest import assert_one_line_error, once, zoo_cli


@once
def test_the_study_refuses_a_folder_zoo_did_not_write_before_it_decodes(tmp_path):
    (tmp_path / "length_study.md").write_text("my own table")
    result = zoo_cli("study", "length", "--out", str(tmp_path), check=False)
    assert_one_line_error(result, str(tmp_path), "not written by zoo")
    assert [path.name for path in tmp_path.iterdir()] == ["length_study.md"] and (tmp_path / "length_study.md").read_text() == "my own table"
