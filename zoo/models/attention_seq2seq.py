"""Seq2seq with Bahdanau attention: a fresh context c_t = sum_i a_ti h_i at every decoder step."""
import keras

from zoo.layers import BahdanauAttention
from zoo.models.encoder_decoder import EncoderDecoder


@keras.saving.register_keras_serializable(package="zoo")
class AttentionSeq2Seq(EncoderDecoder):
    """s_t = g_U(y_{t-1}, s_{t-1}, c_t), a_t = softmax(v^T tanh(W s_{t-1} + U h_i)) over unpadded i.

    The attention weights are an output of `decoder_step` and are never supervised.
    """

    uses_encoder_outputs = True

    def __init__(self, *args, attention_units=128, **kwargs):
        super().__init__(*args, **kwargs)
        self.attention_units = attention_units
        self.attention = BahdanauAttention(attention_units, name="attention")

    @property
    def state_size(self):
        return self.decoder_units

    def initial_state(self, final):
        return self.bridge(final)

    def hidden_state(self, state):
        return state

    def project_keys(self, encoder_outputs):
        return self.attention.project_keys(encoder_outputs)

    def context(self, hidden, state, encoder_outputs, source_mask, projected_keys=None):
        return self.attention(hidden, encoder_outputs, source_mask, projected_keys)

    def next_state(self, new_hidden, state):
        return new_hidden

    def get_config(self):
        return {**super().get_config(), "attention_units": self.attention_units}
