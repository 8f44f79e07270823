from tests.conftest import once, run


@once
def test_each_decoding_is_timed_under_the_five_thread_settings(artifacts):
    folder = artifacts["walk_instructions"]
    result = run("-m", "benchmarks.threads", "--presets", "walk_instructions", "--artifacts", str(folder.parent), "--repeats", "1")
    rows = [line.strip("| ").split(" | ") for line in result.stdout.splitlines() if line.startswith("| walk_instructions ")]
    assert [row[1:3] for row in rows] == [["greedy", "1"], ["greedy", "64"], ["beam 4", "1"], ["beam 4", "64"]]
    assert all(float(time) > 0 for row in rows for time in row[3:]) and all(len(row) == 8 for row in rows)
