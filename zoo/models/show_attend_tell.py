"""Image captioning with soft attention over a CNN grid (Show, Attend and Tell, Xu et al. 2015)."""
import keras
from keras import ops

from zoo.core.contract import role
from zoo.layers import BahdanauAttention
from zoo.models.attentive_decoder import AttentiveDecoder


@keras.saving.register_keras_serializable(package="zoo")
class ShowAttendTell(AttentiveDecoder):
    """A CNN turns the image into an `H x W` grid of annotation vectors `a_i` (L = H*W); an LSTM decoder
    starts from MLPs of the mean annotation and, at every step, attends over the grid:
    `e_ti = f_att(h_{t-1}, a_i)` (additive MLP), `alpha_t = softmax(e_t)`, `z_t = beta_t * sum_i alpha_ti a_i`
    with the gate `beta_t = sigmoid(f_beta(h_{t-1}))`. Training adds the doubly stochastic penalty
    `attention_penalty * sum_i (1 - sum_t alpha_ti)^2` (mean over the batch).

    Input images are `(batch, height, width, 1)` floats in [0, 1], `image_size` giving both sides or [height, width];
    the encoder's strides (2 and 7) take 84 pixels to a 6x6 grid (one 28-pixel cell of a 3x3 scene = 2x2 grid
    positions), and a 28 x 336 text line to a 2 x 24 grid. With `dark_ink`,
    the graph inverts the image first (drawings: dark strokes on white paper). With `column_units`, a bidirectional
    GRU reads the grid's columns (each column's rows stacked) both ways, as text recognisers' encoders do, and the
    memory is one row of annotations of `2 * column_units`: each column then knows what lies left and right of it.
    Call on {"image", "target_in": (batch, target_len)} for teacher-forced logits; id 0 is padding.
    """

    def __init__(
        self, vocab_size, image_size=84, channels=128, embedding_dim=64, decoder_units=256, attention_units=128,
        attention_penalty=1.0, dropout=0.0, dark_ink=False, column_units=0, **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.image_size = image_size
        self.image_shape = tuple(image_size) if isinstance(image_size, (list, tuple)) else (image_size, image_size)
        self.channels = channels
        self.embedding_dim = embedding_dim
        self.decoder_units = decoder_units
        self.attention_units = attention_units
        self.attention_penalty = attention_penalty
        self.dropout_rate = dropout
        self.dark_ink = dark_ink
        self.column_units = column_units
        # Strided convolutions, no pooling (slow to train through on XLA-CPU): 84 -> 42 -> 6. The last 3x3
        # convolution lets each grid position see its neighbours, so a 28-pixel item is seen whole.
        self.convolutions = [
            keras.layers.Conv2D(32, 5, strides=2, padding="same", activation="relu", name="conv_1"),
            keras.layers.Conv2D(64, 3, padding="same", activation="relu", name="conv_2"),
            keras.layers.Conv2D(channels, 7, strides=7, activation="relu", name="conv_3"),
            keras.layers.Conv2D(channels, 3, padding="same", activation="relu", name="conv_4"),
        ]
        self.cells = (self.image_shape[0] // 14, self.image_shape[1] // 14)
        self.grid_shape = (1, self.cells[1]) if column_units else self.cells
        self.positions = self.grid_shape[0] * self.grid_shape[1]
        self.annotation_size = 2 * column_units if column_units else channels
        if column_units:
            # At initialisation a line's CNN features are about 0.003 (thin strokes through three small-weight
            # convolutions), a tenth of the position embedding: normalised, the columns reach the GRU at unit scale.
            self.column_norm = keras.layers.LayerNormalization(name="column_norm")
            self.column_reader = keras.layers.Bidirectional(keras.layers.GRU(column_units, return_sequences=True), name="column_reader")
        self.position_embedding = keras.layers.Embedding(self.positions, self.annotation_size, name="position_embedding")
        self.position_embedding.build()
        self.init_hidden = keras.layers.Dense(decoder_units, activation="tanh", name="init_hidden")
        self.init_cell = keras.layers.Dense(decoder_units, activation="tanh", name="init_cell")
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")
        self.attention = BahdanauAttention(attention_units, name="attention")
        self.gate = keras.layers.Dense(1, activation="sigmoid", name="gate")
        self.decoder_cell = keras.layers.LSTMCell(decoder_units, name="decoder_cell")
        self.dropout = keras.layers.Dropout(dropout, name="dropout")
        self.output_projection = keras.layers.Dense(vocab_size, name="output_projection")

    has_attention = True
    memory_roles = {"annotations": "memory", "projected_keys": "keys"}

    @property
    def state_size(self):
        return 2 * self.decoder_units  # [h, c] of the LSTM

    @property
    def context_size(self):
        return self.annotation_size

    @property
    def target_embedding(self):
        return self.embedding

    def source_inputs(self):
        return {"image": (keras.Input((*self.image_shape, 1), name="image"), role("image"))}

    def vocabularies(self):
        return {"target": self.vocab_size}

    def contract(self):
        # Attention rows reshape to the grid; the encoder takes grey images of this size.
        height, width = self.image_shape
        return {**super().contract(), "attention_grid": list(self.grid_shape), "image": {"height": height, "width": width, "channels": 1}}

    def memory_inputs(self):
        return {"annotations": (self.positions, self.annotation_size), "projected_keys": (self.positions, self.attention_units)}

    def encode(self, image, training=None):
        """The memory {annotations (batch, L, annotation_size), projected_keys} and the decoder's initial state `(batch, 2 * decoder_units)`."""
        memory = self.annotate(image)
        return memory, self.initial_state(ops.mean(memory["annotations"], axis=1))

    def initial_state(self, summary):
        """The LSTM's [h, c] from one vector per row (the mean annotation)."""
        return ops.concatenate([self.init_hidden(summary), self.init_cell(summary)], axis=-1)

    def annotate(self, image):
        """The memory {annotations (batch, L, annotation_size), projected_keys} of an image."""
        # On white paper the ReLU features answer the background, and the annotations of two molecule
        # drawings barely differed (0.013 of their magnitude, against 0.20 inverted): blank paper must be 0.
        features = 1.0 - image if self.dark_ink else image
        for convolution in self.convolutions:
            features = convolution(features)
        if self.column_units:
            columns = ops.reshape(ops.transpose(features, (0, 2, 1, 3)), (-1, self.cells[1], self.cells[0] * self.channels))
            features = self.column_reader(self.column_norm(columns))
        annotations = ops.reshape(features, (-1, self.positions, self.annotation_size))
        # The table itself, not a lookup of constant ids: tf2onnx would freeze that lookup into an extra graph input.
        annotations = annotations + self.position_embedding.embeddings
        return {"annotations": annotations, "projected_keys": self.attention.project_keys(annotations)}

    def recur(self, embedded, state, memory):
        """One decoder step without the output layer: new hidden state, gated context, new state, attention."""
        hidden, cell = state[:, : self.decoder_units], state[:, self.decoder_units :]
        context, attention = self.attention(hidden, memory["annotations"], projected_keys=memory["projected_keys"])
        context = self.gate(hidden) * context
        new_hidden, (_, new_cell) = self.decoder_cell(ops.concatenate([embedded, context], axis=-1), [hidden, cell])
        return new_hidden, context, ops.concatenate([new_hidden, new_cell], axis=-1), attention

    def call(self, inputs, training=None):
        logits, attention = self.teacher_forced(inputs, training, attention_size=self.positions if training and self.attention_penalty else None)
        if attention is not None:
            # Only real steps (not padding after the end) count towards each position's total attention.
            steps = ops.expand_dims(ops.cast(ops.transpose(ops.not_equal(inputs["target_in"], 0)), attention.dtype), -1)
            total = ops.sum(attention * steps, axis=0)
            self.add_loss(self.attention_penalty * ops.mean(ops.sum(ops.square(1.0 - total), axis=-1)))
        return logits

    def build_for_inputs(self):
        self({"image": ops.zeros((1, *self.image_shape, 1)), "target_in": ops.ones((1, 1), dtype="int32")})

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "image_size": self.image_size,
            "channels": self.channels,
            "embedding_dim": self.embedding_dim,
            "decoder_units": self.decoder_units,
            "attention_units": self.attention_units,
            "attention_penalty": self.attention_penalty,
            "dropout": self.dropout_rate,
            "dark_ink": self.dark_ink,
            "column_units": self.column_units,
        }
