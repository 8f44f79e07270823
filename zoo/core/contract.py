"""The declared contract of deployment graphs: what each input and output tensor is, by role.

A model declares each graph's kind and its tensors' roles (`graph_roles`); export writes them into the
manifest beside the names, shapes and dtypes ONNX gives. Decoding, parity, serving and benchmarks read
roles and never guess from names or branch on task strings.
"""
from zoo.core.errors import ZooError

ROLES = {
    "tokens": "token ids, (batch, time) right-padded with 0, at least one id a row, or (batch,) one per row; `vocabulary` names the tokenizer side",
    "image": "pixels (batch, height, width, channels) in [0, 1]",
    "audio": "log-mel frames (batch, time, mel bins) of `zoo.core.audio.log_mel`, right-padded with all-zero frames to a multiple of the manifest's `audio.frame_multiple`",
    "padding_mask": "1.0 at the source's real positions, 0.0 at its padding (batch, time)",
    "state": "recurrent state: a step's output of this role is its next call's input of this role",
    "memory": "what attention looks at: encoder outputs or image annotations (batch, positions, features)",
    "keys": "the attention's projection of the memory (U h_i), computed once per source",
    "logits": "scores over the next token's vocabulary",
    "class_logits": "scores over a classifier's classes",
    "attention": "attention weights over the memory's positions (batch, positions), or per emitted token (batch, steps, positions)",
    "length_limit": "the most tokens a search emits per row (1,)",
    "beam_width": "the hypotheses a beam search keeps per source (1,)",
    "beam_parents": "per step, the row (source x beam, source-major) of the step before that each kept hypothesis extends (rows, steps)",
    "hypothesis_scores": "summed log-probabilities of the hypotheses a beam search kept at its end (batch, beams)",
    "step_scores": "per step, the summed log-probabilities of the hypotheses a beam search kept (batch, steps, beams)",
    "runner_up_scores": "per step, the best total a beam search pruned (batch, steps)",
    "lengths": "tokens each hypothesis emitted, its end included (rows,)",
    "log_probs": "the log-probability of each emitted token (batch, steps), 0 after the row's end",
    "candidate_count": "how many next ids a step proposes per row (1,)",
    "candidates": "per row, its likeliest next ids, best first, never padding or the start id (batch, count)",
    "candidate_log_probs": "the log-probabilities of a step's candidates (batch, count)",
}
# How graphs are chained: `sequence` reads a whole text and `step` continues it one token at a time; `encoder`
# reads the source once and `decoder_step` emits one target token per call, for rows that may be several hypotheses
# per source (source-major) while its memory, keys and padding mask hold each source once (axis `sources`). Export builds the rest around the
# decoder step, with no Keras counterpart: `candidate_step` is the step that proposes each row's likeliest next ids
# instead of scoring the whole vocabulary, and `greedy_search` and `beam_search` run the step until every row has
# ended: a whole search in one call.
SEARCH_KINDS = ("greedy_search", "beam_search")
EXPORTED_KINDS = ("candidate_step", *SEARCH_KINDS)
KINDS = ("sequence", "step", "encoder", "decoder_step", *EXPORTED_KINDS)


def role(name, vocabulary=None):
    """A tensor's declaration; token ids name the vocabulary (a key of the contract's `vocabularies`) they index."""
    if name not in ROLES:
        raise ValueError(f"unknown role {name!r}")
    return {"role": name, "vocabulary": vocabulary} if vocabulary else {"role": name}


class Graphs:
    """Graph specs {name: {"kind", "inputs": [tensor], "outputs": [tensor]}}, each tensor {"name", "role", ...}, looked up by role."""

    def __init__(self, specs):
        self.specs = specs

    def named(self, kind):
        """The name of the graph of this kind."""
        names = [name for name, spec in self.specs.items() if spec["kind"] == kind]
        if len(names) != 1:
            raise ZooError(f"expected one graph of kind {kind!r}, found {len(names)}")
        return names[0]

    def without(self, *kinds):
        """These graphs less those of these kinds."""
        return Graphs({name: spec for name, spec in self.specs.items() if spec["kind"] not in kinds})

    def has(self, kind):
        return any(spec["kind"] == kind for spec in self.specs.values())

    def generates_text(self):
        """Whether these are a language model's graphs: a step whose logits score the next token (a classifier's score classes)."""
        return self.has("step") and self.tensor(self.named("step"), "outputs", "logits") is not None

    def tensors(self, graph, side, role_name):
        return [tensor["name"] for tensor in self.specs[graph][side] if tensor["role"] == role_name]

    def tensor(self, graph, side, role_name):
        """The name of the one `side` ("inputs" or "outputs") tensor of `graph` with this role, or None."""
        names = self.tensors(graph, side, role_name)
        return names[0] if names else None
