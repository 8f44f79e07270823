"""Images as the `image` role takes them: floats in [0, 1] from grey uint8 pixels."""
import numpy as np


def pixels(scenes):
    """(n, size, size, 1) floats in [0, 1] from uint8 grey images (n, size, size)."""
    return (np.asarray(scenes, dtype="float32") / 255.0)[..., None]
