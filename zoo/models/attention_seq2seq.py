"""Seq2seq with Bahdanau attention: a fresh context c_t = sum_i a_ti h_i at every decoder step."""
import keras

from zoo.layers import BahdanauAttention
from zoo.models.encoder_decoder import EncoderDecoder


@keras.saving.register_keras_serializable(package="zoo")
class AttentionSeq2Seq(EncoderDecoder):
    """s_t = g_U(y_{t-1}, s_{t-1}, c_t), a_t = softmax(v^T tanh(W s_{t-1} + U h_i)) over unpadded i.

    The attention weights are an output of `decoder_step` and are never supervised.
    """

    has_attention = True
    memory_roles = {"encoder_outputs": "memory", "source_mask": "padding_mask", "projected_keys": "keys"}

    def __init__(self, *args, attention_units=128, **kwargs):
        super().__init__(*args, **kwargs)
        self.attention_units = attention_units
        self.attention = BahdanauAttention(attention_units, name="attention")

    @property
    def state_size(self):
        return self.decoder_units

    def memory_inputs(self):
        return {"encoder_outputs": (None, self.encoder_output_dim), "source_mask": (None,), "projected_keys": (None, self.attention_units)}

    def initial_state(self, final):
        return self.bridge(final)

    def hidden_state(self, state):
        return state

    def context(self, hidden, state, memory):
        return self.attention(hidden, memory["encoder_outputs"], memory["source_mask"], memory["projected_keys"])

    def next_state(self, new_hidden, state):
        return new_hidden

    def get_config(self):
        return {**super().get_config(), "attention_units": self.attention_units}
