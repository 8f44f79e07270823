"""Speech recognition with a pyramidal listener and an attending speller (Listen, Attend and Spell, Chan et al. 2016)."""
import keras
from keras import ops

from zoo.core.audio import HOP_SECONDS, WINDOW_SECONDS
from zoo.core.contract import role
from zoo.layers import Pairs
from zoo.models.attention_seq2seq import AttentionSeq2Seq


@keras.saving.register_keras_serializable(package="zoo")
class ListenAttendSpell(AttentionSeq2Seq):
    """The listener is a pyramid of bidirectional GRUs over log-mel frames: each level reads pairs of consecutive
    outputs of the level below (the first, pairs of frames), so `pyramid_levels` levels shorten time by
    `2 ** pyramid_levels` (3: one memory position per 80 ms) and the speller's attention has fewer positions to search.
    The speller is `AttentionSeq2Seq`'s GRU decoder with Bahdanau attention, writing characters.

    Call on {"frames": (batch, time, mel_bins), "target_in": (batch, target_len)} for teacher-forced logits. Frames
    are right-padded with all-zero frames to a multiple of `2 ** pyramid_levels` (`zoo.core.audio.padded_frames`).
    """

    def __init__(self, target_vocab_size, mel_bins=40, pyramid_levels=3, **kwargs):
        super().__init__(None, target_vocab_size, **kwargs)
        self.mel_bins = mel_bins
        self.pyramid_levels = pyramid_levels
        self.pairs = [Pairs(name=f"pairs_{level}") for level in range(pyramid_levels)]
        self.listener = [
            keras.layers.Bidirectional(keras.layers.GRU(self.encoder_units, return_sequences=True, return_state=True), name=f"listener_{level}")
            for level in range(pyramid_levels)
        ]

    @property
    def frame_multiple(self):
        return 2**self.pyramid_levels

    def source_inputs(self):
        return {"frames": (keras.Input((None, self.mel_bins), name="frames"), role("audio"))}

    def vocabularies(self):
        return {"target": self.target_vocab_size}

    def contract(self):
        # How serving computes the frames: `zoo.core.audio.log_mel` with these settings, padded to this multiple.
        audio = {"mel_bins": self.mel_bins, "window_seconds": WINDOW_SECONDS, "hop_seconds": HOP_SECONDS, "frame_multiple": self.frame_multiple}
        return {**super().contract(), "audio": audio}

    def encode(self, frames, training=None):
        """The memory {encoder_outputs (batch, time / 2 ** levels, 2 * encoder_units), source_mask, projected_keys} and
        the speller's initial state from the top level's final states."""
        outputs, mask = frames, ops.any(ops.not_equal(frames, 0.0), axis=-1)
        for pairs, level in zip(self.pairs, self.listener):
            outputs, mask = self.dropout(pairs(outputs), training=training), pairs.compute_mask(outputs, mask)
            outputs, *states = level(outputs, mask=mask)
        return self.memory(outputs, states, mask)

    def build_for_inputs(self):
        self({"frames": ops.ones((1, self.frame_multiple, self.mel_bins)), "target_in": ops.ones((1, 1), dtype="int32")})

    def get_config(self):
        config = {**super().get_config(), "mel_bins": self.mel_bins, "pyramid_levels": self.pyramid_levels}
        del config["source_vocab_size"], config["encoder_cell"], config["bidirectional"]  # no tokens in; always bidirectional GRUs
        return config
