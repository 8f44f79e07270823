import io
import wave

import numpy as np
import pytest

from tests.conftest import once
from zoo.core.audio import MAX_HZ, log_mel, padded_frames, read_wav
from zoo.core.errors import ZooError

pytestmark = once  # numpy only
RATE = 22_050


def tone(hz, seconds=0.5, rate=RATE, amplitude=0.5):
    return (amplitude * np.sin(2 * np.pi * hz * np.arange(int(seconds * rate)) / rate)).astype("float32")


def wav_bytes(samples, rate=RATE, width=2, channels=1):
    dtype, offset, scale = {1: ("uint8", 128, 127), 2: ("<i2", 0, 32767), 4: ("<i4", 0, 2147483647)}[width]
    pcm = (np.repeat(samples[:, None], channels, axis=1) * scale + offset).astype(dtype)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(channels), wav.setsampwidth(width), wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())
    return buffer.getvalue()


@pytest.mark.parametrize("width, channels", [(1, 1), (2, 1), (2, 2), (4, 1)])
def test_wav_files_of_any_pcm_width_read_back_as_mono_samples(width, channels):
    samples, rate = read_wav(wav_bytes(tone(440), width=width, channels=channels))
    assert rate == RATE and samples.dtype == np.float32
    np.testing.assert_allclose(samples, tone(440), atol=2 / 2 ** (8 * width - 1) + 1e-6)


def test_frames_are_gain_free_bounded_never_all_zero_and_peak_at_the_tone():
    frames = log_mel(tone(1000), RATE, 40)
    assert frames.shape == (1 + (len(tone(1000)) - 551) // 220, 40)  # 25 ms windows every 10 ms at 22.05 kHz
    np.testing.assert_allclose(log_mel(0.01 * tone(1000), RATE, 40), frames, atol=1e-4)
    assert frames.min() >= -1 and frames.max() == 1 and np.abs(frames).max(axis=1).min() > 0
    # The loudest bin is the same whatever the sampling rate: the filters span 0 to 8 kHz in hertz, not in bins.
    peak = np.argmax(frames.mean(axis=0))
    assert np.argmax(log_mel(tone(1000, rate=16_000), 16_000, 40).mean(axis=0)) == peak
    mel = lambda hz: 2595 * np.log10(1 + hz / 700)
    assert abs(peak + 1 - 41 * mel(1000) / mel(MAX_HZ)) <= 1


def test_padding_is_zero_frames_to_a_multiple():
    batch = padded_frames([np.ones((5, 3), "float32"), np.ones((2, 3), "float32")], 4)
    assert batch.shape == (2, 8, 3) and batch[0, 5:].sum() == 0 and batch[1, :2].all() and batch[1, 2:].sum() == 0
    assert padded_frames([np.ones((5, 3), "float32")], 4, at_least=10).shape == (1, 12, 3)


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda path: path.write_bytes(b"ID3 an mp3, say"), ["not a PCM WAV file"]),
        (lambda path: path.write_bytes(wav_bytes(tone(440))[:30]), ["not a PCM WAV file"]),
        (lambda path: path.write_bytes(wav_bytes(tone(440), rate=8_000)), ["8000 Hz", "16000"]),
        (lambda path: path.write_bytes(wav_bytes(tone(440, seconds=0.01))), ["shorter than one 25 ms window"]),
        (lambda path: None, ["cannot read", "No such file"]),
    ],
)
def test_bad_audio_is_a_one_line_error(tmp_path, make, words):
    path = tmp_path / "speech.wav"
    make(path)
    with pytest.raises(ZooError) as error:
        log_mel(*read_wav(path), 40)
    assert all(word in str(error.value) for word in words) and "\n" not in str(error.value)


def test_24_bit_samples_are_refused_by_name():
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1), wav.setsampwidth(3), wav.setframerate(RATE)
        wav.writeframes(b"\0" * 3000)
    with pytest.raises(ZooError, match="24-bit samples"):
        read_wav(buffer.getvalue(), "upload")
