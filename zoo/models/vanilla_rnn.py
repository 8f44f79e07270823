"""The vanilla RNN, h_t = tanh(W x_t + U h_{t-1} + b), stacked, as a language model or a classifier."""
import keras
from keras import ops

from zoo.core.contract import role


@keras.saving.register_keras_serializable(package="zoo")
class VanillaRNN(keras.Model):
    """Token embeddings -> stacked `SimpleRNNCell` layers -> a dense head.

    `num_classes=None`: many-to-many language model, logits `(batch, time, vocab_size)`.
    `num_classes=K`: many-to-one classifier, logits `(batch, K)` from the last unpadded step.
    Token id 0 is padding and is masked everywhere. The state of all layers is one tensor
    `(batch, num_layers, hidden_dim)`, so deployment graphs keep the same inputs at any depth.
    `embedding_stddev`: embeddings drawn from N(0, stddev^2) instead of Keras' uniform +-0.05. From those tiny
    inputs a wide RNN (512 units and up) sat on the unigram plateau for hundreds of steps; unit-variance inputs
    drive its state from the first step.
    """

    def __init__(self, vocab_size, embedding_dim=64, hidden_dim=256, num_layers=2, num_classes=None, dropout=0.0, embedding_stddev=None, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.num_classes = num_classes
        self.dropout_rate = dropout
        self.embedding_stddev = embedding_stddev
        # The padding mask is computed and passed explicitly: the step graph's cells must not receive one.
        initializer = "uniform" if embedding_stddev is None else keras.initializers.RandomNormal(stddev=embedding_stddev)
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, embeddings_initializer=initializer, name="embedding")
        # Cells named per layer: the step graph calls them directly, and names must be unique there.
        self.recurrent = [
            keras.layers.RNN(keras.layers.SimpleRNNCell(hidden_dim, name=f"cell_{i}"), return_sequences=True, return_state=True, name=f"rnn_{i}")
            for i in range(num_layers)
        ]
        self.dropout = keras.layers.Dropout(dropout, name="dropout")
        self.head = keras.layers.Dense(num_classes or vocab_size, name="head")

    def encode(self, tokens, training=None):
        """Top-layer outputs at every step and the final state `(batch, num_layers, hidden_dim)`."""
        mask = ops.not_equal(tokens, 0)
        outputs = self.embedding(tokens)
        states = []
        for layer in self.recurrent:
            outputs, state = layer(outputs, mask=mask, training=training)
            outputs = self.dropout(outputs, training=training)
            states.append(state)
        return outputs, ops.stack(states, axis=1)

    def logits(self, outputs, state):
        return self.head(outputs if self.num_classes is None else state[:, -1])

    def call(self, tokens, training=None):
        return self.logits(*self.encode(tokens, training))

    def build_for_inputs(self):
        """Creates the weights by calling the model once on a tiny batch."""
        self(ops.ones((1, 1), dtype="int32"))

    # Output names differ from input names: tf2onnx breaks a graph whose input and output share a name.
    def sequence_graph(self):
        """tokens `(batch, time)` -> logits, and the state after the last unpadded token as `new_state`."""
        tokens = keras.Input((None,), dtype="int32", name="tokens")
        outputs, state = self.encode(tokens)
        return keras.Model({"tokens": tokens}, {"logits": self.logits(outputs, state), "new_state": state}, name="sequence")

    def step_graph(self):
        """One step of the recurrence: token `(batch,)`, state -> logits, new_state."""
        token = keras.Input((), dtype="int32", name="token")
        state = keras.Input((self.num_layers, self.hidden_dim), name="state")
        outputs = self.embedding(token)
        states = []
        for i, layer in enumerate(self.recurrent):
            outputs, _ = layer.cell(outputs, [state[:, i]])
            states.append(outputs)
        new_state = ops.stack(states, axis=1)
        return keras.Model({"token": token, "state": state}, {"logits": self.logits(outputs, new_state), "new_state": new_state}, name="step")

    def deployment_graphs(self):
        return {"sequence": self.sequence_graph(), "step": self.step_graph()}

    def vocabularies(self):
        return {"text": self.vocab_size} | ({"classes": self.num_classes} if self.num_classes else {})

    def contract(self):
        """What export writes into the manifest: each graph's kind and the role of every input and output, the vocabularies."""
        logits = role("logits", "text") if self.num_classes is None else role("class_logits", "classes")
        graphs = {
            "sequence": {"kind": "sequence", "tensors": {"tokens": role("tokens", "text"), "logits": logits, "new_state": role("state")}},
            "step": {"kind": "step", "tensors": {"token": role("tokens", "text"), "state": role("state"), "logits": logits, "new_state": role("state")}},
        }
        return {"graphs": graphs, "vocabularies": self.vocabularies()}

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "embedding_dim": self.embedding_dim,
            "hidden_dim": self.hidden_dim,
            "num_layers": self.num_layers,
            "num_classes": self.num_classes,
            "dropout": self.dropout_rate,
            "embedding_stddev": self.embedding_stddev,
        }
