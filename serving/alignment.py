"""Listen, attend and spell's figure: the spectrogram, and under it which stretch of audio each written character
attended to."""
import numpy as np

from serving.heatmap import MARGIN, font, save_png, text_size

FRAME_PIXELS = 2  # per 10 ms frame across, per mel bin down
ROW_PIXELS = 16  # per written character


def draw_spectrogram_alignment(frames, attention, tokens, frames_per_position, path):
    """Writes a PNG: log-mel `frames` (time, mel bins; darker = louder, low bins at the bottom) above one row per token
    of `attention` (tokens x memory positions; darker = more), each position spanning its `frames_per_position` frames."""
    from PIL import Image, ImageDraw

    frames = np.asarray(frames, dtype="float64")
    attention = np.asarray(attention, dtype="float64")[: len(tokens)]
    loudness = (frames[:, ::-1].T - frames.min()) / max(frames.max() - frames.min(), 1e-9)
    rows = np.repeat(np.repeat(attention / np.maximum(attention.max(axis=1, keepdims=True), 1e-9), frames_per_position, axis=1)[:, : len(frames)], ROW_PIXELS, axis=0)
    spectrogram = np.kron(loudness, np.ones((FRAME_PIXELS, FRAME_PIXELS)))
    alignment = np.repeat(rows, FRAME_PIXELS, axis=1)
    labels = [{" ": "␣"}.get(token, token) for token in tokens]
    label_font = font(12)
    measure = ImageDraw.Draw(Image.new("L", (1, 1)))
    left = 2 * MARGIN + max((text_size(measure, label, label_font)[0] for label in labels), default=0)
    grey = lambda shade: Image.fromarray(np.round(255 * (1 - shade)).astype("uint8"))
    image = Image.new("RGB", (left + spectrogram.shape[1] + MARGIN, 2 * MARGIN + spectrogram.shape[0] + MARGIN + alignment.shape[0]), "white")
    image.paste(grey(spectrogram), (left, MARGIN))
    top = 2 * MARGIN + spectrogram.shape[0]
    image.paste(grey(alignment), (left, top))
    draw = ImageDraw.Draw(image)
    for t, label in enumerate(labels):
        width, height = text_size(draw, label, label_font)
        draw.text((left - MARGIN - width, top + t * ROW_PIXELS + (ROW_PIXELS - height) // 2 - 2), label, fill="black", font=label_font)
    save_png(image, path, "alignment figure")
