"""Teacher forcing as one `keras.ops.scan` over the target steps, for every encoder-decoder here."""
from keras import ops


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
