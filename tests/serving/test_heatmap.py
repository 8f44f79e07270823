import pytest
from fontTools.ttLib import TTFont
from PIL import Image, ImageFont

from serving.heatmap import FONT, draw_alignment, font
from tests.conftest import PRESETS
from zoo.core.tokenizers import TokenizerPair
from zoo.presets import Preset


def characters(tokenizer):
    """Every character a label drawn from this vocabulary can hold."""
    if isinstance(tokenizer, TokenizerPair):
        return characters(tokenizer.source) | characters(tokenizer.target)
    kind = tokenizer.to_dict()["type"]
    words = {"char": lambda: tokenizer.chars, "word": lambda: tokenizer.words, "symbols": lambda: tokenizer.words, "subword": lambda: tokenizer.tokens(range(tokenizer.vocab_size))}[kind]()
    return set("".join(words) + "".join(getattr(tokenizer, "labels", None) or []))


@pytest.mark.parametrize("name", PRESETS)
def test_the_label_font_has_a_glyph_for_every_character_of_every_vocabulary(name):
    glyphs = TTFont(FONT)["cmap"].getBestCmap()
    missing = sorted(char for char in characters(Preset(name).tokenizer) if ord(char) not in glyphs and char.isprintable())
    assert not missing, missing


def test_accented_subwords_are_drawn_not_boxed(tmp_path):
    """A character the font lacks renders as its missing-glyph box (that of an unassigned code point): `▁cré` must
    not, as it did with Pillow's default font."""
    missing = bytes(font().getmask("\ue000"))
    assert all(bytes(font().getmask(char)) != missing for char in "\u2581créèçœ")
    default = ImageFont.load_default(size=14)
    assert bytes(default.getmask("\u2581")) == bytes(default.getmask("\ue000"))
    draw_alignment([[1.0]], ["\u2581cré"], ["\u2581cré"], tmp_path / "a.png")
    with Image.open(tmp_path / "a.png") as image:
        image.verify()
