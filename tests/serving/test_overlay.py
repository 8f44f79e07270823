import numpy as np
import pytest
from PIL import Image

from serving.overlay import cell_masses, draw_overlay, load_image
from zoo.core.errors import ZooError


def test_any_image_becomes_a_grey_image_of_the_model_shape(tmp_path):
    colour = np.zeros((120, 200, 3), np.uint8)
    colour[:, :100, 0] = 255  # left half pure red: luminance 0.299 * 255
    Image.fromarray(colour).save(tmp_path / "wide.png")
    grey = load_image(tmp_path / "wide.png", (84, 84))
    assert grey.shape == (84, 84) and grey.dtype == np.uint8
    assert abs(int(grey[40, 10]) - 76) <= 1 and grey[40, 80] == 0
    line = load_image(tmp_path / "wide.png", (28, 336))
    assert line.shape == (28, 336) and line[14, 150] > 70 and line[14, 190] == 0


def test_unreadable_and_absurd_images_are_refused(tmp_path):
    (tmp_path / "text.jpg").write_text("hello")
    with pytest.raises(ZooError, match="not an image"):
        load_image(tmp_path / "text.jpg", (84, 84))
    with pytest.raises(ZooError, match="cannot read"):
        load_image(tmp_path / "absent.png", (84, 84))


def test_cell_masses_sum_the_grid_into_equal_cells():
    attention = np.zeros(36)
    attention[[0, 1, 6, 7]] = 0.25  # the top-left 2x2 block of a 6x6 grid
    assert list(cell_masses(attention, 3)) == [1.0] + [0.0] * 8
    assert np.allclose(cell_masses(np.full(36, 1 / 36), 3), 1 / 9)


def test_overlay_draws_one_panel_per_token(tmp_path):
    attention = np.random.default_rng(0).dirichlet(np.ones(36), size=7).reshape(7, 6, 6)
    draw_overlay(np.zeros((84, 84), np.uint8), attention, ["a", "dress", "at", "the", "top", "left", "</s>"], tmp_path / "o.png")
    with Image.open(tmp_path / "o.png") as image:
        assert image.size == (6 * 168, 2 * (168 + 22))


def test_overlay_of_a_text_line_keeps_its_aspect_one_panel_per_row(tmp_path):
    attention = np.random.default_rng(0).dirichlet(np.ones(48), size=3).reshape(3, 2, 24)
    draw_overlay(np.zeros((28, 336), np.uint8), attention, ["c", "a", "t"], tmp_path / "o.png")
    with Image.open(tmp_path / "o.png") as image:
        assert image.size == (582, 3 * (48 + 22))
