"""What the two seq2seq families share: a recurrent encoder, a GRU decoder, the deployment graphs."""
import keras
from keras import ops

from zoo.layers import TiedOutput
from zoo.models.decoder_scan import decoder_scan


class EncoderDecoder(keras.Model):
    """Source ids -> recurrent encoder -> decoder GRU cell fed `[embedding(y_{t-1}), context_t]`.

    The encoder is a GRU or an LSTM (`encoder_cell`), bidirectional by default; its final hidden
    states (forward at T, backward at 1) give the decoder's initial state. With `tie_embeddings`, the readout
    goes through a tanh layer of the embedding width and is scored against the target embeddings (`TiedOutput`).

    Subclasses say what the context is (`context`, `project_keys`) and what the decoder state holds
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
        self.source_embedding = keras.layers.Embedding(source_vocab_size, embedding_dim, name="source_embedding")
        recurrent = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}[encoder_cell]
        encoder = recurrent(encoder_units, return_sequences=True, return_state=True, name=f"encoder_{encoder_cell}")
        self.encoder = keras.layers.Bidirectional(encoder, name="encoder") if bidirectional else encoder
        self.bridge = keras.layers.Dense(decoder_units, activation="tanh", name="bridge")
        self.target_embedding = keras.layers.Embedding(target_vocab_size, embedding_dim, name="target_embedding")
        self.decoder_cell = keras.layers.GRUCell(decoder_units, name="decoder_cell")
        self.dropout = keras.layers.Dropout(dropout, name="dropout")
        if tie_embeddings:
            self.readout_projection = keras.layers.Dense(embedding_dim, activation="tanh", name="readout_projection")
            self.output_projection = TiedOutput(target_vocab_size, name="output_projection")
        else:
            self.output_projection = keras.layers.Dense(target_vocab_size, name="output_projection")

    def encode(self, source, training=None):
        """Encoder outputs `(batch, length, encoder_output_dim)`, the float source mask, the decoder's initial state."""
        mask = ops.not_equal(source, 0)
        outputs, *states = self.encoder(self.dropout(self.source_embedding(source), training=training), mask=mask)
        hidden = states[::2] if self.encoder_cell == "lstm" else states  # an LSTM also returns its cell states
        final = ops.concatenate(hidden, axis=-1) if len(hidden) > 1 else hidden[0]
        return outputs, ops.cast(mask, "float32"), self.initial_state(final)

    @property
    def encoder_output_dim(self):
        return self.encoder_units * (2 if self.bidirectional else 1)

    def decode_step(self, previous_token, state, encoder_outputs, source_mask, training=None, projected_keys=None):
        """Logits for the next token, the new state, and the attention weights (None without attention)."""
        embedded = self.dropout(self.target_embedding(previous_token), training=training)
        new_hidden, context, new_state, attention = self.recur(embedded, state, encoder_outputs, source_mask, projected_keys)
        return self.readout(new_hidden, context, embedded, training), new_state, attention

    def recur(self, embedded, state, encoder_outputs, source_mask, projected_keys=None):
        """One decoder step without the output layer: new hidden state, context, new state, attention."""
        hidden = self.hidden_state(state)
        context, attention = self.context(hidden, state, encoder_outputs, source_mask, projected_keys)
        new_hidden, _ = self.decoder_cell(ops.concatenate([embedded, context], axis=-1), [hidden])
        return new_hidden, context, self.next_state(new_hidden, state), attention

    def readout(self, new_hidden, context, embedded, training=None):
        features = self.dropout(ops.concatenate([new_hidden, context, embedded], axis=-1), training=training)
        if self.tie_embeddings:
            return self.output_projection(self.readout_projection(features), self.target_embedding.embeddings)
        return self.output_projection(features)

    def call(self, inputs, training=None):
        encoder_outputs, source_mask, state = self.encode(inputs["source"], training)
        embedded = self.dropout(self.target_embedding(inputs["target_in"]), training=training)
        projected_keys = self.project_keys(encoder_outputs)

        def recur(embedded_t, state):
            return self.recur(embedded_t, state, encoder_outputs, source_mask, projected_keys)

        # Dropout (random state) and the output layer (one large matmul) stay outside the scan.
        hidden, context, _ = decoder_scan(recur, embedded, state, self.decoder_units, self.encoder_output_dim)
        return self.readout(hidden, context, embedded, training)

    def build_for_inputs(self):
        self({"source": ops.ones((1, 2), dtype="int32"), "target_in": ops.ones((1, 1), dtype="int32")})

    # Output names differ from input names: tf2onnx breaks a graph whose input and output share a name.
    def encoder_graph(self):
        source = keras.Input((None,), dtype="int32", name="source")
        encoder_outputs, source_mask, initial_state = self.encode(source)
        outputs = {"encoder_outputs": encoder_outputs, "source_mask": source_mask, "initial_state": initial_state}
        return keras.Model({"source": source}, outputs, name="encoder")

    def decoder_step_graph(self):
        inputs = {
            "previous_token": keras.Input((), dtype="int32", name="previous_token"),
            "state": keras.Input((self.state_size,), name="state"),
        }
        if self.uses_encoder_outputs:
            inputs["encoder_outputs"] = keras.Input((None, self.encoder_output_dim), name="encoder_outputs")
            inputs["source_mask"] = keras.Input((None,), name="source_mask")
        logits, new_state, attention = self.decode_step(
            inputs["previous_token"], inputs["state"], inputs.get("encoder_outputs"), inputs.get("source_mask")
        )
        outputs = {"logits": logits, "new_state": new_state}
        if attention is not None:
            outputs["attention"] = attention
        return keras.Model(inputs, outputs, name="decoder_step")

    def token_vocabularies(self):
        """Vocabulary size of each token input of the deployment graphs."""
        return {"source": self.source_vocab_size, "previous_token": self.target_vocab_size}

    def deployment_graphs(self):
        return {"encoder": self.encoder_graph(), "decoder_step": self.decoder_step_graph()}

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
