"""The lecture's alignment figure: source words across, target words down, darker = more attention."""
import contextlib
import os
import secrets
from pathlib import Path

import numpy as np

from zoo.core.errors import ZooError

CELL = 26
MARGIN = 8
# DejaVu Sans has a glyph for every character of the shipped vocabularies (accents, `▁`), which Pillow's
# default font lacks; a test checks it.
FONT = Path(__file__).with_name("fonts") / "DejaVuSans.ttf"


def font(size=14):
    from PIL import ImageFont

    return ImageFont.truetype(str(FONT), size)


def text_size(draw, text, label_font):
    left, top, right, bottom = draw.textbbox((0, 0), text, font=label_font)
    return right - left, bottom - top


def draw_alignment(attention, source_tokens, target_tokens, path):
    """Writes a PNG of `attention` (target x source); the file appears only once complete."""
    from PIL import Image, ImageDraw

    attention = np.asarray(attention, dtype="float64")[: len(target_tokens), : len(source_tokens)]
    label_font = font()
    measure = ImageDraw.Draw(Image.new("L", (1, 1)))
    left = MARGIN + max(text_size(measure, token, label_font)[0] for token in target_tokens) + MARGIN
    top = MARGIN + max(text_size(measure, token, label_font)[0] for token in source_tokens) + MARGIN
    image = Image.new("RGB", (left + CELL * len(source_tokens) + MARGIN, top + CELL * len(target_tokens) + MARGIN), "white")
    draw = ImageDraw.Draw(image)
    for t, row in enumerate(attention):
        for s, weight in enumerate(row):
            shade = int(round(255 * (1 - weight)))
            box = (left + s * CELL, top + t * CELL, left + (s + 1) * CELL - 1, top + (t + 1) * CELL - 1)
            draw.rectangle(box, fill=(shade, shade, shade), outline=(220, 220, 220))
    for t, token in enumerate(target_tokens):
        width, height = text_size(draw, token, label_font)
        draw.text((left - MARGIN - width, top + t * CELL + (CELL - height) // 2 - 2), token, fill="black", font=label_font)
    for s, token in enumerate(source_tokens):
        width, height = text_size(draw, token, label_font)
        label = Image.new("RGBA", (width + 4, height + 6), (255, 255, 255, 0))
        ImageDraw.Draw(label).text((2, 0), token, fill="black", font=label_font)
        label = label.rotate(90, expand=True)
        image.paste(label, (left + s * CELL + (CELL - label.width) // 2, top - MARGIN - label.height), label)
    save_png(image, path, "heatmap")


def save_png(image, path, what):
    """Writes a Pillow image as PNG; the file appears only once complete, under a temporary name no other writer shares."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")
    try:
        image.save(partial, format="PNG")
        os.replace(partial, path)
    except OSError as error:
        with contextlib.suppress(OSError):  # below a file or a missing folder there is nothing to remove
            partial.unlink(missing_ok=True)
        raise ZooError(f"cannot write the {what} {path}: {error.strerror or error}") from None
