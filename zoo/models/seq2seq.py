"""Seq2seq without attention: the decoder sees one fixed context c = h_T, the bottleneck."""
import keras
from keras import ops

from zoo.models.encoder_decoder import EncoderDecoder


@keras.saving.register_keras_serializable(package="zoo")
class Seq2Seq(EncoderDecoder):
    """s_t = g_U(y_{t-1}, s_{t-1}, c) with c the encoder's final states (forward at T, backward at 1).

    The decoder state carries `[s_t, c]`, so `decoder_step` needs no encoder outputs at all.
    """

    has_attention = False
    memory_roles = {"encoder_outputs": "memory", "source_mask": "padding_mask"}

    @property
    def state_size(self):
        return self.decoder_units + self.encoder_output_dim

    def memory_inputs(self):
        return {}

    def initial_state(self, final):
        return ops.concatenate([self.bridge(final), final], axis=-1)

    def hidden_state(self, state):
        return state[:, : self.decoder_units]

    def context(self, hidden, state, memory):
        return state[:, self.decoder_units :], None

    def next_state(self, new_hidden, state):
        return ops.concatenate([new_hidden, state[:, self.decoder_units :]], axis=-1)
