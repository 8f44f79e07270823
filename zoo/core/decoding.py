"""Decoding loops in numpy over a runner: `runner.run(graph, inputs) -> {name: array}`, and `runner.graphs`, the
graphs' declared roles (`zoo.core.contract.Graphs`).

The same loops drive onnxruntime sessions and Keras models, so both decode identically.
"""
import functools
import itertools

import numpy as np

from zoo.core.errors import ZooError
from zoo.core.molecules import LINE_END, MAX_SMILES
from zoo.core.tokenizers import BOS_ID, EOS_ID, PAD_ID, pad_batch

# Padding only follows the end, and the start id only starts: never candidates. Being the first two ids, they are
# left out by slicing the logits, without copying them.
FIRST_CANDIDATE = max(PAD_ID, BOS_ID) + 1
# Up to this many sources, a search runs in one call of an artifact's `greedy_search` or `beam_search` graph, which
# saves the per-step calls; larger batches decode faster step by step, where the batch sheds the rows of sources that
# have ended (a graph computes every row until the last has ended; see the README's benchmarks).
GRAPH_SEARCH_ROWS = 8
# A decoding batch keeps the rows of ended hypotheses until no more than this share of it goes on (`StepBatch`).
KEEP_ENDED_ROWS_DOWN_TO = 0.75


def sample_next(logits, temperature, rng):
    """One id per row: argmax at temperature 0, else a draw from softmax(logits / temperature)."""
    with np.errstate(over="ignore"):
        scaled = logits.astype("float64") / temperature if temperature else None
    if scaled is None or not np.isfinite(scaled).all():  # 0, or so small the scaled logits overflow: the limit, greedy
        return logits.argmax(axis=-1).astype("int32")
    scaled -= scaled.max(axis=-1, keepdims=True)
    cumulative = np.exp(scaled).cumsum(axis=-1)
    # Inverse-CDF draws for every row at once; the clip guards a draw landing on the last sum's rounding.
    drawn = (cumulative < rng.random((len(cumulative), 1)) * cumulative[:, -1:]).sum(axis=-1)
    return np.minimum(drawn, logits.shape[-1] - 1).astype("int32")


def sample_steps(runner, prompts, temperature, rng):
    """Yields one sampled id per row and step, without end: the prompts `(batch, time)` read by the `sequence`
    graph, then one `step` call per id."""
    graphs = runner.graphs
    sequence, step = graphs.named("sequence"), graphs.named("step")
    outputs = runner.run(sequence, {graphs.tensor(sequence, "inputs", "tokens"): prompts})
    logits, state = outputs[graphs.tensor(sequence, "outputs", "logits")][:, -1], outputs[graphs.tensor(sequence, "outputs", "state")]
    token_input, state_input = graphs.tensor(step, "inputs", "tokens"), graphs.tensor(step, "inputs", "state")
    logits_output, state_output = graphs.tensor(step, "outputs", "logits"), graphs.tensor(step, "outputs", "state")
    while True:
        token = sample_next(logits, temperature, rng)
        yield token
        outputs = runner.run(step, {token_input: token, state_input: state})
        logits, state = outputs[logits_output], outputs[state_output]


def sample_ids(runner, prompt_ids, temperature, rng):
    """Yields the ids sampled after one prompt."""
    return (int(token[0]) for token in sample_steps(runner, prompt_ids[None], temperature, rng))


def sample_text(runner, tokenizer, prompt, length, temperature, rng):
    """`length` characters sampled after `prompt`."""
    return tokenizer.decode(list(itertools.islice(sample_ids(runner, tokenizer.encode(prompt), temperature, rng), length)))


def sample_lines(runner, prompt_ids, count, end_id, max_length, temperature, rng):
    """`count` continuations of `prompt_ids` sampled side by side, each up to `end_id` (left out) or `max_length` ids.

    Ended rows stay in the batch: one batch shape for every step, so a jitted Keras graph compiles once.
    """
    lines, going = [[] for _ in range(count)], np.ones(count, bool)
    for token in itertools.islice(sample_steps(runner, np.repeat(prompt_ids[None], count, axis=0), temperature, rng), max_length):
        going &= token != end_id
        if not going.any():
            break
        for row in np.flatnonzero(going).tolist():
            lines[row].append(int(token[row]))
    return lines


def sample_smiles(runner, tokenizer, prefix, count, temperature, rng):
    """`count` SMILES that start with `prefix`: the lines a molecule generator writes after a line end and `prefix`."""
    # Checked here, not by the text tokenizer, which drops unknown punctuation: "C@" must not quietly become "C".
    unknown = sorted(set(prefix) - (set(tokenizer.chars) - {LINE_END}))
    if unknown:
        raise ZooError(f"SMILES prefix has characters {', '.join(map(repr, unknown))} outside the model's {len(tokenizer.chars) - 1}-character alphabet")
    end_id = int(tokenizer.encode(LINE_END)[0])
    lines = sample_lines(runner, tokenizer.encode(LINE_END + prefix), count, end_id, MAX_SMILES, temperature, rng)
    return [prefix + tokenizer.decode(line) for line in lines]


def rows_of(source):
    """How many rows a source holds: an array, or {encoder input name: array} where the encoder takes several."""
    return len(next(iter(source.values()))) if isinstance(source, dict) else len(source)


def take(source, rows):
    """The `rows` (an index or slice) of an array, or of every array of a dict."""
    return {name: value[rows] for name, value in source.items()} if isinstance(source, dict) else source[rows]


def chunks(source, size):
    """`source` cut into consecutive parts of at most `size` rows (`take` of each)."""
    return [take(source, slice(start, start + size)) for start in range(0, rows_of(source), size)]


class Decoder:
    """An encoder and a decoder step, their tensors found by role once, and the candidate step and search graphs
    where there are some.

    The step's inputs besides the previous token and the state are encoder outputs of the same role:
    the memory it attends over, its padding mask, its projected keys. The candidate step's are the step's and the
    candidate count. The search graphs' are the encoder's outputs of their role (the state being the initial one),
    the length limit and, for the beam, its width.
    """

    def __init__(self, graphs):
        self.encoder, self.step = graphs.named("encoder"), graphs.named("decoder_step")
        self.sources = [tensor["name"] for tensor in graphs.specs[self.encoder]["inputs"]]
        self.initial_state = graphs.tensor(self.encoder, "outputs", "state")
        self.previous_token, self.state = graphs.tensor(self.step, "inputs", "tokens"), graphs.tensor(self.step, "inputs", "state")
        self.memory = {
            tensor["name"]: graphs.tensor(self.encoder, "outputs", tensor["role"])
            for tensor in graphs.specs[self.step]["inputs"]
            if tensor["name"] not in (self.previous_token, self.state)
        }
        self.logits, self.new_state = graphs.tensor(self.step, "outputs", "logits"), graphs.tensor(self.step, "outputs", "state")
        self.attention = graphs.tensor(self.step, "outputs", "attention")
        self.candidate_step = graphs.named("candidate_step") if graphs.has("candidate_step") else None
        if self.candidate_step:
            self.candidate_count = graphs.tensor(self.candidate_step, "inputs", "candidate_count")
            self.proposed = {role: graphs.tensor(self.candidate_step, "outputs", role) for role in ("candidates", "candidate_log_probs", "state", "attention")}
        self.search = graphs.named("greedy_search") if graphs.has("greedy_search") else None
        if self.search:
            self.length_limit = graphs.tensor(self.search, "inputs", "length_limit")
            self.search_inputs = {
                tensor["name"]: graphs.tensor(self.encoder, "outputs", tensor["role"]) for tensor in graphs.specs[self.search]["inputs"] if tensor["name"] != self.length_limit
            }
            self.searched = {role: graphs.tensor(self.search, "outputs", role) for role in ("tokens", "log_probs", "attention")}
        self.beam = graphs.named("beam_search") if graphs.has("beam_search") else None
        if self.beam:
            self.beam_limits = {role: graphs.tensor(self.beam, "inputs", role) for role in ("beam_width", "length_limit")}
            self.beam_inputs = {
                tensor["name"]: graphs.tensor(self.encoder, "outputs", tensor["role"]) for tensor in graphs.specs[self.beam]["inputs"] if tensor["name"] not in self.beam_limits.values()
            }
            self.beamed = {tensor["role"]: tensor["name"] for tensor in graphs.specs[self.beam]["outputs"]}

    def encoder_inputs(self, source):
        """The encoder's feed from a source: one array for a one-input encoder, else {input name: array} naming each."""
        if not isinstance(source, dict):
            (name,) = self.sources
            return {name: source}
        if sorted(source) != sorted(self.sources):
            raise ZooError(f"the encoder takes {', '.join(self.sources)}, not {', '.join(source)}")
        return source

    def propose(self, runner, batch, token, state, finished, count):
        """One decoder step of the hypotheses in `batch`, from their previous `token` and `state`: per hypothesis
        the `count` likeliest next ids and their log-probabilities (as `candidates` returns them), its new state
        and its attention (None without). The candidate step ranks the vocabulary where the runner has one;
        else numpy ranks the logits of the decoder step."""
        feed = batch.feed({self.previous_token: token, self.state: state})
        if self.candidate_step:
            outputs = runner.run(self.candidate_step, feed | {self.candidate_count: np.array([count], "int32")})
            ids, log_probs = batch.read(outputs[self.proposed["candidates"]]), batch.read(outputs[self.proposed["candidate_log_probs"]]).astype("float64")
            pad_finished(ids, log_probs, finished)
            new_state, attention = self.proposed["state"], self.proposed["attention"]
        else:
            outputs = runner.run(self.step, feed)
            ids, log_probs = candidates(batch.read(outputs[self.logits]), finished, count)
            new_state, attention = self.new_state, self.attention
        return ids, log_probs, batch.read(outputs[new_state]), batch.read(outputs[attention]) if attention else None


class StepBatch:
    """The batch that a search's decoder step reads: the hypotheses still decoding, at `rows` of it, `width` rows per
    source (source-major), and the memory of those sources, once each: the step's attention reads a source's memory for
    all of its rows.

    A hypothesis that ends leaves the search at once, but its row stays in the batch, computed and ignored, until no
    more than KEEP_ENDED_ROWS_DOWN_TO of the batch goes on; only then is the batch cut to the rows going on. Cutting at
    every end copied the encoder's outputs at most steps, which took longer than computing the ended rows. A decoder
    that reads no encoder outputs (no attention) has nothing to copy, and its batch is cut at every end.
    """

    def __init__(self, memory, size, width=1):
        self.memory, self.size, self.width, self.rows = memory, size, width, np.arange(size)

    def feed(self, hypotheses):
        """The step's inputs: the memory, and the per-hypothesis arrays of `hypotheses` ({input name: array}) at
        their rows (ended rows read zeros)."""
        if len(self.rows) == self.size:
            return hypotheses | self.memory
        spread = {}
        for name, value in hypotheses.items():
            spread[name] = np.zeros((self.size, *value.shape[1:]), value.dtype)
            spread[name][self.rows] = value
        return spread | self.memory

    def read(self, output):
        """The hypotheses' rows of a step output."""
        return output if len(self.rows) == self.size else output[self.rows]

    def keep(self, kept):
        """Only the hypotheses `kept` (indices or a mask; all `width` rows of a source or none) go on."""
        self.rows = self.rows[kept]
        if not self.memory or len(self.rows) <= KEEP_ENDED_ROWS_DOWN_TO * self.size:
            self.memory = take(self.memory, self.rows[:: self.width] // self.width)
            self.size, self.rows = len(self.rows), np.arange(len(self.rows))


@functools.cache
def decoder_of(graphs):
    """The `Decoder` of `graphs`, made once: finding its tensors by role takes about 26 us, which at batch 1 is as
    long as a step of the numbers translator."""
    return Decoder(graphs)


class Without:
    """A runner less its graphs of some `kinds`, to decode another way: without the search graphs
    (`zoo.core.contract.SEARCH_KINDS`), a search calls a step once per token; without the candidate step as well,
    numpy ranks the decoder step's logits."""

    def __init__(self, runner, *kinds):
        self.runner, self.graphs = runner, runner.graphs.without(*kinds)

    def run(self, graph, inputs):
        return self.runner.run(graph, inputs)


def log_normaliser(logits):
    """log sum exp of each row, exponentials in float32 and their sum in float64."""
    top = logits.max(axis=1)
    return top.astype("float64") + np.log(np.exp(logits - top[:, None]).sum(axis=1, dtype="float64"))


def candidates(logits, finished, count):
    """Per row, the `count` likeliest next ids and their log-probabilities (float64), best not necessarily first.

    The normaliser is the log-sum-exp of the whole row, but only the candidates' log-probabilities are formed:
    what a beam keeps is among its rows' best few. A finished hypothesis only pads (`pad_finished`).
    """
    normaliser = log_normaliser(logits)
    allowed = logits[:, FIRST_CANDIDATE:]
    count = min(count, allowed.shape[1])
    ids = allowed.argmax(axis=1)[:, None] if count == 1 else np.argpartition(allowed, allowed.shape[1] - count, axis=1)[:, -count:]
    # Plain fancy indexing: np.take_along_axis costs more in Python than the gather itself at these sizes.
    log_probs = allowed[np.arange(len(ids))[:, None], ids].astype("float64") - normaliser[:, None]
    ids += FIRST_CANDIDATE
    pad_finished(ids, log_probs, finished)
    return ids, log_probs


def pad_finished(ids, log_probs, finished):
    """Makes a finished hypothesis's candidates padding, in place: its first at no cost, the rest impossible."""
    if finished.any():
        ids[finished], log_probs[finished] = PAD_ID, -np.inf
        log_probs[finished, 0] = 0.0


def greedy_search(runner, source, max_length, length_penalty=1.0):
    """`beam_search` of width 1: in one call of the runner's `greedy_search` graph where it has one and the batch
    has at most GRAPH_SEARCH_ROWS rows (`graph_search`), else step by step (`greedy_loop`)."""
    if runner.graphs.has("greedy_search") and rows_of(source) <= GRAPH_SEARCH_ROWS:
        return graph_search(runner, source, max_length, length_penalty)
    graphs = decoder_of(runner.graphs)
    return greedy_loop(runner, graphs, runner.run(graphs.encoder, graphs.encoder_inputs(source)), max_length, length_penalty)


def graph_search(runner, source, max_length, length_penalty=1.0):
    """Greedy decoding by the runner's encoder and `greedy_search` graph, one call each."""
    graphs = decoder_of(runner.graphs)
    encoded = runner.run(graphs.encoder, graphs.encoder_inputs(source))
    feed = {name: encoded[output] for name, output in graphs.search_inputs.items()} | {graphs.length_limit: np.array([max_length], "int32")}
    outputs = runner.run(graphs.search, feed)
    ids, log_probs = outputs[graphs.searched["tokens"]], outputs[graphs.searched["log_probs"]]
    ended = ids == EOS_ID
    lengths = np.where(ended.any(axis=1), ended.argmax(axis=1) + 1, ids.shape[1])
    attention = outputs[graphs.searched["attention"]] if graphs.searched["attention"] else None
    return greedy_results(ids, lengths, log_probs.sum(axis=1, dtype="float64"), attention, length_penalty)


def greedy_loop(runner, graphs, encoded, max_length, length_penalty):
    """Greedy decoding with fewer array operations per step than a beam: each row takes its likeliest candidate and
    leaves the search with its end id. At batch 1, most of a step's time outside the graph call was beam bookkeeping."""
    state = encoded[graphs.initial_state]
    count = len(state)
    batch = StepBatch({name: encoded[output] for name, output in graphs.memory.items()}, count)
    ids, scores, lengths = np.zeros((count, max_length), "int32"), np.zeros(count), np.zeros(count, "int64")
    alive, token, attention = np.arange(count), np.full(count, BOS_ID, dtype="int32"), None
    for step in range(max_length):
        best, log_probs, new_state, step_attention = graphs.propose(runner, batch, token, state, np.zeros(len(alive), bool), 1)
        token = best[:, 0].astype("int32")
        scores[alive] += log_probs[:, 0]
        ids[alive, step], lengths[alive] = token, step + 1
        if step_attention is not None:
            attention = np.zeros((count, max_length, step_attention.shape[1]), "float32") if attention is None else attention
            attention[alive, step] = step_attention
        going = token != EOS_ID
        if not going.any():
            break
        alive, token, state = alive[going], token[going], new_state[going]
        batch.keep(going)
    return greedy_results(ids, lengths, scores, attention, length_penalty)


def greedy_results(ids, lengths, scores, attention, length_penalty):
    """Per row of (rows, steps) ids with the end id: the ids before the end, the score (summed log-probabilities
    over the `length` tokens emitted, end included, normalised) and the attention of those tokens."""
    results = []
    for sentence, length in enumerate(lengths):
        kept = [int(i) for i in ids[sentence, :length] if i != EOS_ID]
        result_attention = attention[sentence, :length] if attention is not None else None
        results.append({"ids": kept, "score": float(scores[sentence] / max(length, 1) ** length_penalty), "attention": result_attention})
    return results


def beam_search(runner, source, max_length, beam_width=1, length_penalty=1.0, trace=False):
    """Translates (or captions) a batch of sources; beam width 1 is greedy decoding (`greedy_search` unless traced).
    Up to GRAPH_SEARCH_ROWS sources, untraced, search in one call of the runner's `beam_search` graph where it has
    one (`graph_beam_search`).

    Returns, per source row: target ids (up to, not including, the end id), the length-normalised
    log-probability `sum log p / length ** length_penalty`, and the attention matrix (target x source positions)
    where the model has attention, else None. Ties go to the lower beam, then the lower id.

    A sentence leaves the search as soon as all its hypotheses have ended (its rows leave the batch as `StepBatch`
    says); each step records only each new hypothesis's parent and token, and the winners are traced back at the end.

    With `trace`, each result also holds the search itself, step by step (for comparing two runtimes'
    searches): `beams` a hash of each kept hypothesis's ids (steps, width), `beam_scores` their scores, and
    `runner_up` the best score pruned (steps,).
    """
    if beam_width == 1 and not trace:
        return greedy_search(runner, source, max_length, length_penalty)
    if runner.graphs.has("beam_search") and rows_of(source) <= GRAPH_SEARCH_ROWS and not trace:
        return graph_beam_search(runner, source, max_length, beam_width, length_penalty)
    graphs, width = decoder_of(runner.graphs), beam_width
    encoded = runner.run(graphs.encoder, graphs.encoder_inputs(source))
    state = np.repeat(encoded[graphs.initial_state], width, axis=0) if width > 1 else encoded[graphs.initial_state]
    batch = StepBatch({name: encoded[output] for name, output in graphs.memory.items()}, len(state), width)
    alive = np.arange(rows_of(source))  # sentences still decoding; each has `width` rows, sentence-major
    scores = np.zeros((len(alive), width))
    scores[:, 1:] = -np.inf  # every beam starts as the same hypothesis: keep one
    token = np.full(len(alive) * width, BOS_ID, dtype="int32")
    finished, lengths, hashes = np.zeros(len(token), bool), np.zeros(len(token)), np.zeros(len(token), "int64")
    steps, ended, searched = [], {}, {}
    for step in range(max_length):
        ids, log_probs, new_state, attention = graphs.propose(runner, batch, token, state, finished, width + 1 if trace else width)
        count, per_row = len(alive), ids.shape[1]
        totals = (scores.reshape(-1, 1) + log_probs).reshape(count, width * per_row)
        if totals.shape[1] == 1:  # greedy: the one candidate
            order = np.zeros((count, 1), dtype="int64")
        else:  # best first, ties to the lower beam, then the lower id
            order = np.lexsort(((np.arange(width)[:, None] * (1 << 32) + ids.reshape(count, width, per_row)).reshape(count, -1), -totals), axis=1)
        best, rows = order[:, :width], np.arange(count)[:, None]
        parents = (rows * width + best // per_row).ravel()
        token = ids.reshape(count, -1)[rows, best].ravel().astype("int32")
        scores = totals[rows, best]
        lengths = lengths[parents] + ~finished[parents]
        finished = finished[parents] | (token == EOS_ID)
        if trace:
            hashes = hashes[parents] * 1_000_003 + token  # int64 wraps around: a hash, not the ids
            runner_up = totals[rows[:, 0], order[:, width]]
            for row, sentence in enumerate(alive):
                searched.setdefault(sentence, []).append((hashes.reshape(count, width)[row], scores[row], runner_up[row]))
        done = finished.reshape(count, width).all(axis=1) | (step == max_length - 1)
        keep = None  # the rows that go on: all of them, unless a sentence ended at this step
        if done.any():
            for row in np.flatnonzero(done):
                ended[alive[row]] = (step, row * width, scores[row], lengths.reshape(count, width)[row])
            keep = np.flatnonzero(np.repeat(~done, width))
        steps.append((parents, token, attention, keep))
        state = new_state[parents]
        if keep is not None:
            if not keep.size:
                break
            state, token, finished, lengths, hashes = state[keep], token[keep], finished[keep], lengths[keep], hashes[keep]
            scores, alive = scores[~done], alive[~done]
            batch.keep(keep)
    results = trace_back(steps, [ended[sentence] for sentence in range(rows_of(source))], length_penalty)
    for sentence, result in enumerate(results if trace else ()):
        result["trace"] = {key: np.array(values) for key, values in zip(("beams", "beam_scores", "runner_up"), zip(*searched[sentence]))}
    return results


def graph_beam_search(runner, source, max_length, beam_width, length_penalty=1.0, trace=False):
    """`beam_search` by the runner's encoder and `beam_search` graph, one call each: the graph returns every step's
    parents and tokens, and each source's best hypothesis is traced back here."""
    graphs, width = decoder_of(runner.graphs), beam_width
    encoded = runner.run(graphs.encoder, graphs.encoder_inputs(source))
    feed = {name: np.repeat(encoded[output], width, axis=0) if output == graphs.initial_state else encoded[output] for name, output in graphs.beam_inputs.items()}
    feed |= {graphs.beam_limits["beam_width"]: np.array([width], "int32"), graphs.beam_limits["length_limit"]: np.array([max_length], "int32")}
    outputs = runner.run(graphs.beam, feed)
    parents, tokens = outputs[graphs.beamed["beam_parents"]], outputs[graphs.beamed["tokens"]]
    scores, lengths = outputs[graphs.beamed["hypothesis_scores"]].astype("float64"), outputs[graphs.beamed["lengths"]].reshape(-1, width)
    attention = outputs[graphs.beamed["attention"]] if "attention" in graphs.beamed else None
    normalised = scores / np.maximum(lengths, 1) ** length_penalty
    winners = normalised.argmax(axis=1)
    sources, steps = len(scores), tokens.shape[1]
    # Traced in Python lists: a few sources of a few dozen steps, where numpy's indexing took 4 us a step.
    parent_rows, token_rows, traced_ids, traced_rows = parents.tolist(), tokens.tolist(), [], []
    for source, winner in enumerate(winners.tolist()):
        row, ids_back, rows_back = source * width + winner, [], []
        for step in range(steps - 1, -1, -1):
            ids_back.append(token_rows[row][step])
            row = parent_rows[row][step]
            rows_back.append(row)  # the row the step read
        traced_ids.append(ids_back[::-1])
        traced_rows.append(rows_back[::-1])
    ids = np.array(traced_ids, "int32").reshape(sources, steps)
    read = attention[np.array(traced_rows, "int64").reshape(sources, steps), np.arange(steps)] if attention is not None else None
    results = beam_results(ids, normalised[np.arange(sources), winners], read)
    if trace:
        for result, searched in zip(results, graph_trace(parents, tokens, outputs[graphs.beamed["step_scores"]], outputs[graphs.beamed["runner_up_scores"]], width)):
            result["trace"] = searched
    return results


def graph_trace(parents, tokens, step_scores, runner_up, width):
    """Per source, the search as `beam_search(trace=True)` records it, from the `beam_search` graph's outputs, up to
    the step at which all its hypotheses had ended."""
    rows, steps = tokens.shape
    hashes, finished, traces = np.zeros(rows, "int64"), np.zeros(rows, bool), []
    beams, ended = [], np.full(rows // width, steps)
    for step in range(steps):
        hashes = hashes[parents[:, step]] * 1_000_003 + tokens[:, step]  # int64 wraps around: a hash, not the ids
        finished = finished[parents[:, step]] | (tokens[:, step] == EOS_ID)
        beams.append(hashes.reshape(-1, width))
        ended = np.where((ended == steps) & finished.reshape(-1, width).all(axis=1), step + 1, ended)
    beams = np.stack(beams, axis=1)
    for source, count in enumerate(ended):
        traces.append({"beams": beams[source, :count], "beam_scores": step_scores[source, :count].astype("float64"), "runner_up": runner_up[source, :count].astype("float64")})
    return traces


def trace_back(steps, ends, length_penalty):
    """The results of the sentences that ended at `ends`, each (last step, its first row at that step, its
    hypotheses' scores and lengths), from the per-step parents and tokens: each best hypothesis's ids, score and
    attention, traced back for all sentences at once."""
    last = np.array([end[0] for end in ends])
    normalised = np.array([end[2] for end in ends]) / np.maximum(np.array([end[3] for end in ends]), 1) ** length_penalty
    winners = normalised.argmax(axis=1)
    hypothesis = np.array([end[1] for end in ends]) + winners  # each sentence's row at its last step
    ids, attention = np.zeros((len(ends), last.max() + 1), "int32"), None
    for step in range(last.max(), -1, -1):
        parents, tokens, step_attention, _ = steps[step]
        tracing = last >= step  # the sentences that had not ended before this step
        rows = hypothesis[tracing]
        ids[tracing, step] = tokens[rows]
        if step_attention is not None:
            attention = np.zeros((*ids.shape, step_attention.shape[1]), "float32") if attention is None else attention
            attention[tracing, step] = step_attention[parents[rows]]  # the weights the step computed for the row it read
        if step:
            kept = steps[step - 1][3]  # this step's input row is that kept hypothesis of the step before
            hypothesis[tracing] = parents[rows] if kept is None else kept[parents[rows]]
    return beam_results(ids, normalised[np.arange(len(ends)), winners], attention)


def beam_results(ids, scores, attention):
    """Per source, from its best hypothesis's ids (sources, steps), score and attention (sources, steps, positions)
    or None: the ids but padding and the end, the score, and the attention up to the end."""
    results = []
    for sentence, row in enumerate(ids):
        kept = row[(row != PAD_ID) & (row != EOS_ID)].tolist()
        results.append({"ids": kept, "score": float(scores[sentence]), "attention": attention[sentence, : len(kept) + 1] if attention is not None else None})
    return results


def beam_search_in_batches(runner, source, max_length, beam_width=1, batch_size=64, trace=False):
    """`beam_search` over a large array of sources, `batch_size` rows at a time."""
    return [result for batch in chunks(source, batch_size) for result in beam_search(runner, batch, max_length, beam_width, trace=trace)]


def padded_ids(results):
    """The decoded ids of `beam_search` results as one right-padded (rows, longest) array."""
    return pad_batch([np.array(result["ids"], dtype="int32") for result in results])
