"""Bahdanau (additive) attention: e_ti = v^T tanh(W s_{t-1} + U h_i), softmax over unpadded i."""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class BahdanauAttention(keras.layers.Layer):
    """`call(query, keys, mask)` -> (context `sum_i a_ti h_i`, weights `a_t`).

    query `(batch, query_dim)`, keys `(batch, length, key_dim)`, mask `(batch, length)` with 1 for
    real positions and 0 for padding (None: no padding); padded positions get exactly zero weight.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.query_projection = keras.layers.Dense(units, use_bias=False, name="query_projection")
        self.key_projection = keras.layers.Dense(units, name="key_projection")
        self.score = keras.layers.Dense(1, use_bias=False, name="score")

    def build(self, query_shape, keys_shape):
        # The key projection may already be built: encoders call `project_keys` before the first attention step.
        for layer, shape in ((self.query_projection, query_shape), (self.key_projection, keys_shape), (self.score, (*keys_shape[:-1], self.units))):
            if not layer.built:
                layer.build(shape)

    def call(self, query, keys, mask=None, projected_keys=None):
        """`projected_keys` (`U h_i`, from `project_keys`) saves recomputing them at every decoder step.

        `query` may hold several rows per source, source-major (a beam search's hypotheses), while `keys`, `mask`
        and `projected_keys` hold each source once: the hypotheses of a source share its keys without copies."""
        projected_keys = self.project_keys(keys) if projected_keys is None else projected_keys
        per_source = ops.reshape(self.query_projection(query), (ops.shape(keys)[0], -1, 1, self.units))
        energies = ops.tanh(ops.expand_dims(projected_keys, 1) + per_source)  # (sources, rows per source, length, units)
        scores = ops.squeeze(self.score(energies), -1)
        # A large negative score underflows to an exact 0 after softmax, on every backend and in ONNX.
        weights = ops.softmax(scores if mask is None else ops.where(ops.expand_dims(mask, 1) > 0.5, scores, -1e9), axis=-1)
        context = ops.matmul(weights, keys)
        return ops.reshape(context, (-1, ops.shape(keys)[-1])), ops.reshape(weights, (-1, ops.shape(keys)[1]))

    def project_keys(self, keys):
        return self.key_projection(keys)

    def get_config(self):
        return {**super().get_config(), "units": self.units}
