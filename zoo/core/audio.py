"""Speech as the `audio` role takes it: log-mel frames computed in numpy, so that serving needs no framework."""
import functools
import io
import wave

import numpy as np

from zoo.core.errors import ZooError

WINDOW_SECONDS, HOP_SECONDS = 0.025, 0.010
MAX_HZ = 8000  # the band speech needs; a recording sampled below twice this lacks part of it
FLOOR_DECADES = 8.0  # how far below the loudest bin the quietest may lie, whatever the recording's gain
SAMPLE_WIDTHS = {1: ("uint8", 128.0, 128.0), 2: ("<i2", 0.0, 32768.0), 4: ("<i4", 0.0, 2147483648.0)}  # dtype, offset, scale


def read_wav(source, name=None):
    """(mono float32 samples in [-1, 1], sampling rate) of a PCM WAV file, given as a path or as its bytes (which
    errors then call `name`)."""
    name = name or source
    try:
        with wave.open(io.BytesIO(source) if isinstance(source, bytes) else str(source)) as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            data = wav.readframes(wav.getnframes())
    except OSError as error:
        raise ZooError(f"cannot read {name}: {error.strerror or error}") from None
    except Exception as error:  # the wave module raises assorted errors on a damaged header
        reason = " ".join(str(error).split()) or ("it ends early" if isinstance(error, EOFError) else type(error).__name__)
        raise ZooError(f"{name} is not a PCM WAV file ({reason})") from None
    if width not in SAMPLE_WIDTHS:
        raise ZooError(f"{name} has {8 * width}-bit samples; the speller reads 8, 16 or 32-bit PCM")
    dtype, offset, scale = SAMPLE_WIDTHS[width]
    samples = (np.frombuffer(data[: len(data) // (width * channels) * width * channels], dtype) - offset) / scale
    return samples.reshape(-1, channels).mean(axis=1).astype("float32"), rate


@functools.cache  # one bank per rate, not one per recording
def mel_filters(mel_bins, fft_size, rate):
    """Triangular filters (mel_bins, fft_size // 2 + 1) evenly spaced on the mel scale from 0 to `MAX_HZ`."""
    mel = lambda hz: 2595.0 * np.log10(1.0 + hz / 700.0)
    edges = 700.0 * (10 ** (np.linspace(0.0, mel(MAX_HZ), mel_bins + 2) / 2595.0) - 1.0)
    frequencies = np.arange(fft_size // 2 + 1) * rate / fft_size
    rising = (frequencies - edges[:-2, None]) / (edges[1:-1, None] - edges[:-2, None])
    falling = (edges[2:, None] - frequencies) / (edges[2:, None] - edges[1:-1, None])
    return np.maximum(0.0, np.minimum(rising, falling))


def log_mel(samples, rate, mel_bins):
    """(frames, mel_bins) float32 in [-1, 1]: log power in 25 ms windows every 10 ms, relative to the loudest bin and
    floored `FLOOR_DECADES` below it, so that a recording's gain does not matter. No real frame is all zeros."""
    if rate < 2 * MAX_HZ:
        raise ZooError(f"audio sampled at {rate} Hz; the speller needs at least {2 * MAX_HZ} Hz")
    window, hop = round(WINDOW_SECONDS * rate), round(HOP_SECONDS * rate)
    if len(samples) < window:
        raise ZooError(f"the audio lasts {len(samples) / rate:.3f} s, shorter than one {WINDOW_SECONDS * 1000:.0f} ms window")
    fft_size = 1 << (window - 1).bit_length()
    starts = hop * np.arange(1 + (len(samples) - window) // hop)
    power = np.abs(np.fft.rfft(samples[starts[:, None] + np.arange(window)] * np.hanning(window), fft_size)) ** 2
    decades = np.log10(np.maximum(power @ mel_filters(mel_bins, fft_size, rate).T, 1e-10))
    decades = np.maximum(decades, decades.max() - FLOOR_DECADES)
    return ((decades - decades.max()) / (FLOOR_DECADES / 2) + 1.0).astype("float32")


def padded_length(length, multiple):
    """`length` frames rounded up to a multiple of `multiple` (the listener halves time in pairs)."""
    return -(-length // multiple) * multiple


def padded_frames(features, multiple, at_least=0):
    """(batch, time, mel_bins) of per-utterance frames, right-padded with all-zero frames to a shared `padded_length`
    of at least `at_least`."""
    length = padded_length(max(at_least, *(len(frames) for frames in features)), multiple)
    batch = np.zeros((len(features), length, features[0].shape[1]), "float32")
    for row, frames in enumerate(features):
        batch[row, : len(frames)] = frames
    return batch
