"""What every encoder-decoder here shares: the decoder step and its readout, teacher forcing as one scan, two graphs.

Translation (`EncoderDecoder`) and captioning (`ShowAttendTell`) differ only in what they encode and how one
decoder step recurs; `AttentiveDecoder` does the rest once.
"""
import keras
from keras import ops

from zoo.core.contract import role


def decoder_scan(recur, embedded, state, hidden_size, context_size, attention_size=None):
    """Runs `recur(embedded_t, state) -> (new_hidden, context, new_state, attention)` over the steps of
    `embedded` (batch, time, features), from `state`.

    A scan, not an unrolled loop: XLA compiles one step whatever the target length. Returns the new
    hidden states and contexts, each (batch, time, size), and with `attention_size` the attention
    weights (time, batch, attention_size), else None.
    """

    def step(carry, embedded_t):
        new_hidden, context, new_state, attention = recur(embedded_t, carry[1])
        carry = (ops.concatenate([new_hidden, context], axis=-1), new_state) + ((attention,) if attention_size else ())
        return carry, carry  # Keras' TensorFlow scan needs per-step outputs shaped like the carry

    batch = ops.shape(state)[0]
    first = (ops.zeros((batch, hidden_size + context_size)), state) + ((ops.zeros((batch, attention_size)),) if attention_size else ())
    _, (outputs, _, *attention) = ops.scan(step, first, ops.transpose(embedded, (1, 0, 2)))
    outputs = ops.transpose(outputs, (1, 0, 2))
    return outputs[..., :hidden_size], outputs[..., hidden_size:], attention[0] if attention else None


class AttentiveDecoder(keras.Model):
    """A decoder emitting `y_t` from `[embedding(y_{t-1}), context_t]`, read out as `W [s_t, c_t, embedding(y_{t-1})]`.

    Subclasses create `target_embedding`, `dropout`, `output_projection` (and `readout_projection` with
    `tie_embeddings`) and give:
    - `source_inputs()` {name: (keras.Input, declared role)}: the encoder graph's inputs, in the order `encode` takes them;
    - `encode(*sources, training)` -> (memory {name: tensor}, initial state), and `memory_roles` {name: role} of
      that memory (every encoder output but the state);
    - `memory_inputs()` {name: shape}: which of those the decoder step takes;
    - `recur(embedded, state, memory)` -> (new_hidden, context, new_state, attention or None);
    - `has_attention`, `state_size`, `decoder_units`, `context_size`, `vocabularies()` {name: size}.
    The encoder's `projected_keys` (`U h_i` of the attention) are computed once per source, not at every step.
    """

    tie_embeddings = False

    def readout(self, new_hidden, context, embedded, training=None):
        features = self.dropout(ops.concatenate([new_hidden, context, embedded], axis=-1), training=training)
        if self.tie_embeddings:
            return self.output_projection(self.readout_projection(features), self.target_embedding.embeddings)
        return self.output_projection(features)

    def decode_step(self, previous_token, state, memory):
        """Logits for the next token, the new state, and the attention weights (None without attention)."""
        embedded = self.target_embedding(previous_token)
        new_hidden, context, new_state, attention = self.recur(embedded, state, memory)
        return self.readout(new_hidden, context, embedded), new_state, attention

    def teacher_forced(self, inputs, training=None, attention_size=None):
        """Logits for every target position given the previous targets, and with `attention_size` the attention weights."""
        memory, state = self.encode(*(inputs[name] for name in self.source_inputs()), training=training)
        embedded = self.dropout(self.target_embedding(inputs["target_in"]), training=training)
        # Dropout (random state) and the output layer (one large matmul) stay outside the scan.
        hidden, context, attention = decoder_scan(
            lambda embedded_t, state: self.recur(embedded_t, state, memory), embedded, state, self.decoder_units, self.context_size, attention_size
        )
        return self.readout(hidden, context, embedded, training), attention

    def call(self, inputs, training=None):
        return self.teacher_forced(inputs, training)[0]

    # Output names differ from input names: tf2onnx breaks a graph whose input and output share a name.
    def encoder_graph(self):
        sources = {name: tensor for name, (tensor, _) in self.source_inputs().items()}
        memory, initial_state = self.encode(*sources.values())
        return keras.Model(sources, {**memory, "initial_state": initial_state}, name="encoder")

    def decoder_step_graph(self):
        memory = {name: keras.Input(shape, name=name) for name, shape in self.memory_inputs().items()}
        previous_token, state = keras.Input((), dtype="int32", name="previous_token"), keras.Input((self.state_size,), name="state")
        logits, new_state, attention = self.decode_step(previous_token, state, memory)
        outputs = {"logits": logits, "new_state": new_state} | ({"attention": attention} if attention is not None else {})
        return keras.Model({"previous_token": previous_token, "state": state, **memory}, outputs, name="decoder_step")

    def deployment_graphs(self):
        return {"encoder": self.encoder_graph(), "decoder_step": self.decoder_step_graph()}

    def contract(self):
        """What export writes into the manifest: each graph's kind and the role of every input and output, the vocabularies."""
        memory = {name: role(tensor_role) for name, tensor_role in self.memory_roles.items()}
        step_memory = {name: memory[name] for name in self.memory_inputs()}
        step_outputs = {"logits": role("logits", "target"), "new_state": role("state")}
        if self.has_attention:
            step_outputs["attention"] = role("attention")
        sources = {name: declared for name, (_, declared) in self.source_inputs().items()}
        graphs = {
            "encoder": {"kind": "encoder", "tensors": {**sources, **memory, "initial_state": role("state")}},
            "decoder_step": {
                "kind": "decoder_step",
                "tensors": {"previous_token": role("tokens", "target"), "state": role("state"), **step_memory, **step_outputs},
            },
        }
        return {"graphs": graphs, "vocabularies": self.vocabularies()}
