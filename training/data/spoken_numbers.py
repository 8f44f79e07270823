"""English number phrases spoken by Debian's `espeak-ng`, as log-mel frames, captioned with their words.

Numbers have 1 to 6 digits (uniform), half of them round ("seventy thousand", "two hundred and five"), written out by
PyPI `num2words`. A voice is one of espeak-ng's English accents with one of its voice variants, at a random speed and
pitch, with white noise at a random signal-to-noise ratio. A fixed eighth of the variants is held out: test audio is
spoken in those variants only.
"""
import functools
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from training.data import numbers
from zoo.core.audio import log_mel, read_wav

ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029")
MAX_DIGITS = 6
HELD_OUT_VARIANTS = 0.125
SPEEDS, PITCHES, SNR_DB = (130, 200), (25, 75), (15, 40)  # words per minute, espeak-ng's 0-99 pitch, decibels
ROUND_SHARE = 0.5
VALIDATION_SIZE, TEST_SIZE = 500, 1_000


@functools.cache  # one listing per process
def variants():
    """{"train", "test"}: espeak-ng's voice variants (sorted names), an eighth held out for the test audio."""
    try:
        listing = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True, check=True).stdout
    except FileNotFoundError:
        raise FileNotFoundError("the spoken numbers need espeak-ng: sudo apt-get install espeak-ng") from None
    names = sorted(field[3:] for line in listing.splitlines() for field in line.split() if field.startswith("!v/"))
    held_out = np.random.default_rng(0).random(len(names)) < HELD_OUT_VARIANTS
    return {"train": [n for n, out in zip(names, held_out) if not out], "test": [n for n, out in zip(names, held_out) if out]}


def speak(text, voice, speed, pitch, snr_db, seed, mel_bins):
    """Log-mel frames of `text` spoken by espeak-ng, with white noise `snr_db` below the speech's power."""
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text], capture_output=True, check=True).stdout
    samples, rate = read_wav(wav)
    noise = np.random.default_rng(seed).normal(0.0, np.sqrt(np.mean(samples**2) / 10 ** (snr_db / 10)), len(samples))
    return log_mel(samples + noise.astype("float32"), rate, mel_bins)


def make_utterances(voice_variants, count, rng, mel_bins):
    """(log-mel frames per utterance, texts, voices) of `count` numbers, each in a random accent and variant."""
    digits = rng.integers(1, MAX_DIGITS + 1, count)
    chosen = [numbers.round_number(rng, d) if rng.random() < ROUND_SHARE else int(rng.integers(10 ** (d - 1), 10**d)) for d in digits]
    texts = [numbers.words(number, "en") for number in chosen]
    voices = [f"{ACCENTS[rng.integers(len(ACCENTS))]}+{voice_variants[rng.integers(len(voice_variants))]}" for _ in range(count)]
    settings = zip(texts, voices, rng.integers(*SPEEDS, count), rng.integers(*PITCHES, count), rng.uniform(*SNR_DB, count), rng.integers(2**31, size=count))
    # espeak-ng runs as its own process: threads keep every core busy.
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        frames = list(pool.map(lambda setting: speak(*setting, mel_bins), settings))
    return frames, texts, voices


def load_test(seed, mel_bins, size=TEST_SIZE):
    """(frames, texts, voices) of `size` test utterances, spoken in the held-out variants."""
    return make_utterances(variants()["test"], size, np.random.default_rng([seed, 1]), mel_bins)


def load_splits(seed, train_size, mel_bins):
    """{"train", "validation", "test"}: (frames, texts, voices); training and validation audio use the training variants."""
    rng = np.random.default_rng(seed)
    return {
        "train": make_utterances(variants()["train"], train_size, rng, mel_bins),
        "validation": make_utterances(variants()["train"], VALIDATION_SIZE, rng, mel_bins),
        "test": load_test(seed, mel_bins),
    }
