"""Images in, attention over images out: the captioner's input pipeline and the lecture's overlay figure."""
import numpy as np

from serving.heatmap import font, save_png, text_size
from zoo.core.errors import ZooError

MAX_PIXELS = 50_000_000  # larger is no photo but a decompression bomb or a mistake
PANEL = 168  # pixels per panel side in the overlay (2x an 84-pixel scene); other shapes keep this area
FIGURE_WIDTH = 6 * PANEL
LABEL_HEIGHT = 22


def load_image(path, shape, max_pixels=MAX_PIXELS, name=None):
    """A grey uint8 array of `shape` (height, width) from any image file Pillow reads (PNG, JPEG, GIF, BMP, TIFF, WebP...).

    `path` may be an open binary file (an upload); errors then call it `name`.

    Colour is converted to luminance (ITU-R 601), transparency dropped, and the whole image resized to
    `shape` with Lanczos filtering, without cropping: an image of another aspect is stretched. Polarity is kept:
    each preset's card says what it was trained on (light items on black for the Fashion-MNIST scenes and the
    grid worlds, RDKit's black-on-white drawings for the molecules, which the graph inverts itself).
    """
    from PIL import Image, UnidentifiedImageError

    name = name or path
    try:
        with Image.open(path) as image:
            if image.width * image.height > max_pixels:
                raise ZooError(f"{name} is {image.width} x {image.height} pixels, more than the {max_pixels / 1_000_000:g}-megapixel limit")
            grey = image.convert("L").resize(shape[::-1], Image.Resampling.LANCZOS)
    except UnidentifiedImageError:
        raise ZooError(f"{name} is not an image file Pillow can read") from None
    except Image.DecompressionBombError:
        raise ZooError(f"{name} is larger than the {max_pixels / 1_000_000:g}-megapixel limit") from None
    except OSError as error:
        raise ZooError(f"cannot read the image {name}: {error.strerror or error}") from None
    return np.asarray(grey, dtype=np.uint8)


def cell_masses(attention, cells_per_side):
    """Attention over an `n x n` grid, summed into `cells_per_side x cells_per_side` equal cells, row by row."""
    side = int(round(len(attention) ** 0.5))
    block = side // cells_per_side
    grid = np.asarray(attention, dtype="float64").reshape(cells_per_side, block, cells_per_side, block)
    return grid.sum(axis=(1, 3)).ravel()


def draw_overlay(scene, grids, tokens, path):
    """Writes a PNG with the scene once per generated token, that step's attention grid (rows, columns) upsampled
    over it in red."""
    from PIL import Image, ImageDraw

    label_font = font()
    height, width = np.asarray(scene).shape
    panel_width = min(FIGURE_WIDTH, int(round(PANEL * (width / height) ** 0.5)))
    panel_height = int(round(panel_width * height / width))
    per_row = max(1, FIGURE_WIDTH // panel_width)
    rows = -(-len(tokens) // per_row)
    figure = Image.new("RGB", (panel_width * min(len(tokens), per_row), rows * (panel_height + LABEL_HEIGHT)), "white")
    draw = ImageDraw.Draw(figure)
    grey = Image.fromarray(np.asarray(scene, dtype=np.uint8)).resize((panel_width, panel_height), Image.Resampling.NEAREST)
    red = Image.merge("RGB", (Image.new("L", grey.size, 255), Image.new("L", grey.size, 0), Image.new("L", grey.size, 0)))
    for step, token in enumerate(tokens):
        weights = np.asarray(grids[step], dtype="float64")
        heat = Image.fromarray(np.uint8(255 * weights / max(weights.max(), 1e-12))).resize(grey.size, Image.Resampling.BILINEAR)
        panel = Image.composite(red, grey.convert("RGB"), heat.point(lambda value: int(value * 0.6)))
        x, y = panel_width * (step % per_row), (panel_height + LABEL_HEIGHT) * (step // per_row)
        figure.paste(panel, (x, y))
        label_width, _ = text_size(draw, token, label_font)
        draw.text((x + (panel_width - label_width) // 2, y + panel_height + 3), token, fill="black", font=label_font)
    save_png(figure, path, "overlay")
