"""Halving time by joining neighbours: the step between the levels of a pyramidal listener (Chan et al. 2016)."""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class Pairs(keras.layers.Layer):
    """(batch, time, features) -> (batch, time / 2, 2 * features): steps 2t and 2t + 1 side by side; `time` must be even.

    Padding is a suffix, so a pair is real where its first step is: the mask, where there is one, keeps every other step.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return ops.reshape(inputs, (ops.shape(inputs)[0], -1, 2 * inputs.shape[-1]))

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else mask[:, ::2]

    def compute_output_shape(self, input_shape):
        batch, time, features = input_shape
        return batch, None if time is None else time // 2, 2 * features
