import numpy as np

from tests.conftest import once
from training import speech_recognition
from training.data import spoken_numbers

pytestmark = once  # data and scores, the same on every backend


def test_test_voices_are_held_out_and_utterances_are_reproducible():
    variants = spoken_numbers.variants()
    assert variants["test"] and not set(variants["test"]) & set(variants["train"])
    frames, texts, voices = spoken_numbers.load_test(0, 40, 12)
    again, _, _ = spoken_numbers.load_test(0, 40, 12)
    assert all(np.array_equal(a, b) for a, b in zip(frames, again))
    assert all(voice.split("+")[1] in variants["test"] and voice.split("+")[0] in spoken_numbers.ACCENTS for voice in voices)
    # Longer phrases take longer to say: about 50 to 150 ms a character at 130 to 200 words a minute.
    seconds_per_character = [len(f) * 0.01 / len(t) for f, t in zip(frames, texts)]
    assert 0.03 < min(seconds_per_character) and max(seconds_per_character) < 0.3
    assert all(set(text) <= set("abcdefghijklmnopqrstuvwxyz ,-") for text in texts)


def test_scores_and_attention_monotonicity():
    readings, lines = ["one hundred and two", "seven"], ["one hundred and two", "eleven"]
    scores = speech_recognition.reading_scores(readings, lines)
    assert scores["exact_match"] == 0.5 and scores["word_error_rate"] == 0.2
    forward = {"attention": np.eye(4)}  # the peak moves one position per character
    stuck_then_back = {"attention": np.eye(4)[[0, 0, 3, 1]]}
    assert speech_recognition.peak_moves([forward]) == {"attention_forward_share": 1.0, "attention_advance_share": 1.0}
    assert speech_recognition.peak_moves([stuck_then_back, {"attention": np.eye(4)[:1]}]) == {"attention_forward_share": 0.6667, "attention_advance_share": 0.3333}
