"""attention-zoo: Keras 3 models of the classic attention lectures, with pretrained presets."""
from zoo.presets import Preset, list_presets, load

__all__ = ["Preset", "list_presets", "load"]
