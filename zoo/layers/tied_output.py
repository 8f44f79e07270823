"""An output layer that scores features against the target embeddings (Press and Wolf 2017, weight tying)."""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class TiedOutput(keras.layers.Layer):
    """`call(features, embeddings)` -> logits `features E^T + b`: the embedding matrix `E` is shared, only `b` is this layer's.

    Tying halves the parameters of a large-vocabulary decoder, and its output matmul runs at the embedding width.
    """

    def __init__(self, vocab_size, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size

    def build(self, features_shape, embeddings_shape=None):
        self.bias = self.add_weight(shape=(self.vocab_size,), initializer="zeros", name="bias")

    def call(self, features, embeddings):
        return ops.matmul(features, ops.transpose(embeddings)) + self.bias

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size}
