"""What the two seq2seq families share: a recurrent encoder over source ids and a GRU decoder."""
import keras
from keras import ops

from zoo.core.contract import role
from zoo.layers import TiedOutput
from zoo.models.attentive_decoder import AttentiveDecoder


class EncoderDecoder(AttentiveDecoder):
    """Source ids -> recurrent encoder -> decoder GRU cell fed `[embedding(y_{t-1}), context_t]`.

    The encoder is a GRU or an LSTM (`encoder_cell`), bidirectional by default; its final hidden
    states (forward at T, backward at 1) give the decoder's initial state. With `tie_embeddings`, the readout
    is projected linearly to the embedding width and scored against the target embeddings (`TiedOutput`); a
    tanh there bounds the logits, and training stalled (loss 6.40 against 5.46 after 120 Bible steps).

    Subclasses say what the context is (`context`, `memory_roles`, `memory_inputs`) and what the decoder state holds
    (`state_size`, `initial_state`, `hidden_state`, `next_state`).
    Call on {"source": (batch, source_len), "target_in": (batch, target_len)} for teacher-forced
    logits; id 0 is padding in both.
    """

    def __init__(
        self, source_vocab_size, target_vocab_size, embedding_dim=64, encoder_units=128, decoder_units=256,
        encoder_cell="gru", bidirectional=True, dropout=0.0, tie_embeddings=False, **kwargs,
    ):
        super().__init__(**kwargs)
        self.source_vocab_size = source_vocab_size
        self.target_vocab_size = target_vocab_size
        self.embedding_dim = embedding_dim
        self.encoder_units = encoder_units
        self.decoder_units = decoder_units
        self.encoder_cell = encoder_cell
        self.bidirectional = bidirectional
        self.dropout_rate = dropout
        self.tie_embeddings = tie_embeddings
        if source_vocab_size:  # without one, a subclass reads something other than tokens with an encoder of its own
            self.source_embedding = keras.layers.Embedding(source_vocab_size, embedding_dim, name="source_embedding")
            recurrent = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}[encoder_cell]
            encoder = recurrent(encoder_units, return_sequences=True, return_state=True, name=f"encoder_{encoder_cell}")
            self.encoder = keras.layers.Bidirectional(encoder, name="encoder") if bidirectional else encoder
        self.bridge = keras.layers.Dense(decoder_units, activation="tanh", name="bridge")
        self.target_embedding = keras.layers.Embedding(target_vocab_size, embedding_dim, name="target_embedding")
        self.decoder_cell = keras.layers.GRUCell(decoder_units, name="decoder_cell")
        self.dropout = keras.layers.Dropout(dropout, name="dropout")
        if tie_embeddings:
            self.readout_projection = keras.layers.Dense(embedding_dim, name="readout_projection")
            self.output_projection = TiedOutput(target_vocab_size, name="output_projection")
        else:
            self.output_projection = keras.layers.Dense(target_vocab_size, name="output_projection")

    @property
    def encoder_output_dim(self):
        return self.encoder_units * (2 if self.bidirectional else 1)

    @property
    def context_size(self):
        return self.encoder_output_dim

    def source_inputs(self):
        return {"source": (keras.Input((None,), dtype="int32", name="source"), role("tokens", "source"))}

    def vocabularies(self):
        return {"source": self.source_vocab_size, "target": self.target_vocab_size}

    def encode(self, source, training=None):
        """The memory {encoder_outputs, source_mask (float 1/0), projected_keys with attention} and the decoder's initial state."""
        mask = ops.not_equal(source, 0)
        outputs, *states = self.encoder(self.dropout(self.source_embedding(source), training=training), mask=mask)
        return self.memory(outputs, states, mask)

    def memory(self, outputs, states, mask):
        """The memory and initial state from the encoder's outputs, its final states and the mask of real positions."""
        hidden = states[::2] if self.encoder_cell == "lstm" else states  # an LSTM also returns its cell states
        final = ops.concatenate(hidden, axis=-1) if len(hidden) > 1 else hidden[0]
        memory = {"encoder_outputs": outputs, "source_mask": ops.cast(mask, "float32")}
        if self.has_attention:
            memory["projected_keys"] = self.attention.project_keys(outputs)
        return memory, self.initial_state(final)

    def recur(self, embedded, state, memory):
        """One decoder step without the output layer: new hidden state, context, new state, attention."""
        hidden = self.hidden_state(state)
        context, attention = self.context(hidden, state, memory)
        new_hidden, _ = self.decoder_cell(ops.concatenate([embedded, context], axis=-1), [hidden])
        return new_hidden, context, self.next_state(new_hidden, state), attention

    def build_for_inputs(self):
        self({"source": ops.ones((1, 2), dtype="int32"), "target_in": ops.ones((1, 1), dtype="int32")})

    def get_config(self):
        return {
            **super().get_config(),
            "source_vocab_size": self.source_vocab_size,
            "target_vocab_size": self.target_vocab_size,
            "embedding_dim": self.embedding_dim,
            "encoder_units": self.encoder_units,
            "decoder_units": self.decoder_units,
            "encoder_cell": self.encoder_cell,
            "bidirectional": self.bidirectional,
            "dropout": self.dropout_rate,
            "tie_embeddings": self.tie_embeddings,
        }
