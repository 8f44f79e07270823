"""What serving does with an artifact, item by item: the command line (and any other face) goes through here.

Every item of a request succeeds or fails alone: its result, or `{"error": "..."}` naming the problem in one
line. Items that encode are decoded together (`Runtime.decode`).
"""
import math

import numpy as np

from zoo.core.audio import log_mel, padded_frames, padded_length
from zoo.core.decoding import GRAPH_SEARCH_ROWS, beam_search, beam_search_in_batches, rows_of, sample_ids, sample_smiles, take
from zoo.core.errors import ZooError
from zoo.core.images import pixels
from zoo.core.molecules import canonical
from zoo.core.tokenizers import pad_batch

BATCH = 64
# Each beam multiplies the decoder's batch, and every step ranks beam x vocabulary scores: past 16 beams the
# memory and time grow with no gain measured on any preset (beam 4 is what the cards report).
MAX_BEAM = 16
MAX_GENERATED = 10_000  # characters per --prompt: about 2.5 s of onnxruntime on 2 cores
MAX_MOLECULES = 10_000  # samples per prompt, sampled side by side: MOSES scores generators on 10,000
MAX_AUDIO_SECONDS = 30  # per recording: ten times the longest training utterance, and 3,000 frames a batch row


def each(encode, items):
    """Encodes every item alone: (encoded values of the good ones, their indices, {index: error} for the others)."""
    values, good, errors = [], [], {}
    for index, item in enumerate(items):
        try:
            values.append(encode(item))
            good.append(index)
        except ZooError as error:
            errors[index] = {"error": str(error)}
    return values, good, errors


def merge(count, good, results, errors):
    merged = dict(errors) | dict(zip(good, results))
    return [merged[index] for index in range(count)]


def rounded(array):
    return np.round(np.asarray(array, dtype="float64"), 6).tolist()


class Runtime:
    def __init__(self, artifact):
        self.artifact = artifact
        self.manifest = artifact.manifest
        self.tokenizer = artifact.tokenizer
        self.task = self.manifest["task"]

    @property
    def image_shape(self):
        """(height, width) of the images the captioner's encoder takes."""
        return self.manifest["image"]["height"], self.manifest["image"]["width"]

    def check_beam(self, beam):
        widest = min(MAX_BEAM, self.artifact.vocabularies["target"] - 3)  # padding, start and end are never candidates
        if not 1 <= beam <= widest:
            raise ZooError(f"--beam must be between 1 and {widest}, not {beam}")

    def decode(self, sources, beam):
        """The decodings of `sources` (encoder inputs by name): up to GRAPH_SEARCH_ROWS in one search; more dealt in
        turn to one part per worker of the artifact (one per core) out of every BATCH, decoded side by side, each on
        one thread. At batch 64 that is faster than the whole batch on every core in 25 of the 32 rows of `python -m
        benchmarks.threads` (median 1.12x); parts of 16 gained more on the larger models, but lost on the smallest,
        whose steps are mostly Python. Where the artifact has one worker, BATCH at a time."""
        max_length, count, workers = self.manifest["max_target_length"], rows_of(sources), self.artifact.workers
        if count <= GRAPH_SEARCH_ROWS or workers == 1:
            return beam_search_in_batches(self.artifact, sources, max_length, beam, BATCH)
        # Parts of a BATCH, however many sources come: a part's memory stays what a batch's was before. Dealt, not
        # halved: sources sorted by length (as files often are) then give each part the same mix of lengths, where
        # halves would leave one part all the long ones while the other waits.
        blocks = [np.arange(start, min(start + BATCH, count)) for start in range(0, count, BATCH)]
        parts = [block[worker::workers] for block in blocks for worker in range(min(workers, len(block)))]
        decoded = self.artifact.side_by_side(lambda runner, rows: beam_search(runner, take(sources, rows), max_length, beam), parts)
        results = [result for part in decoded for result in part]
        return [results[index] for index in np.argsort(np.concatenate(parts))]

    def translate(self, texts, beam=1, attention=True):
        """Per text: the translation, its source and target tokens, score and attention (target x source)."""
        self.check_beam(beam)
        source, target = self.tokenizer.source, self.tokenizer.target
        encoded, good, errors = each(lambda text: source.encode(text, self.manifest["max_length"]), texts)
        results = []
        if encoded:
            for ids, result in zip(encoded, self.decode(self.encoder_inputs(tokens=pad_batch(encoded)), beam)):
                translation = {
                    "translation": target.decode(result["ids"]),
                    "source_tokens": source.tokens(ids),
                    "target_tokens": target.tokens(result["ids"] + [target.EOS_ID]),
                    "score": round(result["score"], 6),
                }
                if attention and result["attention"] is not None:
                    translation["attention"] = rounded(result["attention"][:, : len(ids)])
                results.append(translation)
        return [{"text": text, **result} for text, result in zip(texts, merge(len(texts), good, results, errors))]

    def encoder_inputs(self, **by_role):
        """The encoder's feed {input name: array} from arrays given by their inputs' declared roles."""
        graphs = self.artifact.graphs
        encoder = graphs.named("encoder")
        return {graphs.tensor(encoder, "inputs", name): value for name, value in by_role.items()}

    def on_grid(self, result, tokenizer, attention):
        """A decoded result's tokens (by `tokenizer`), its score, and per token the attention over the grid (H x W)."""
        grids = result["attention"].reshape(-1, *self.manifest["attention_grid"])
        # One grid per emitted token: the end token only where it was reached within the length limit.
        tokens = tokenizer.tokens(result["ids"] + [tokenizer.EOS_ID])[: len(grids)]
        return {"tokens": tokens, "score": round(result["score"], 6)} | ({"attention": rounded(grids)} if attention else {})

    def caption(self, sources, load, beam=1, attention=True):
        """Per source (`load(source)` gives its grey uint8 image): the caption, its tokens, score, and per token the
        attention over the grid (H x W)."""
        self.check_beam(beam)
        images, good, errors = each(load, sources)
        results = []
        for result in self.decode(self.encoder_inputs(image=pixels(np.stack(images))), beam) if images else []:
            results.append({"caption": self.tokenizer.decode(result["ids"]), **self.on_grid(result, self.tokenizer, attention)})
        return merge(len(sources), good, results, errors)

    def answer(self, items, load, beam=1, attention=True):
        """Per (source, question) (`load(source)` gives the grey uint8 image): the answer, its tokens, score, and per
        token the attention over the grid (H x W)."""
        self.check_beam(beam)
        questions, answers = self.tokenizer.source, self.tokenizer.target
        encoded, good, errors = each(lambda item: (load(item[0]), questions.encode(item[1], self.manifest["max_length"])), items)
        results = []
        if encoded:
            images, question_ids = zip(*encoded)
            for result in self.decode(self.encoder_inputs(image=pixels(np.stack(images)), tokens=pad_batch(question_ids)), beam):
                results.append({"answer": answers.decode(result["ids"]), **self.on_grid(result, answers, attention)})
        return [{"question": item[1], **result} for item, result in zip(items, merge(len(items), good, results, errors))]

    def frames(self, samples, rate):
        """Log-mel frames of a recording as the speller's encoder takes them (the manifest's `audio` settings)."""
        if len(samples) > MAX_AUDIO_SECONDS * rate:
            raise ZooError(f"the audio lasts {len(samples) / rate:.1f} s, more than the {MAX_AUDIO_SECONDS} s this server spells at once")
        return log_mel(samples, rate, self.manifest["audio"]["mel_bins"])

    def spell(self, sources, load, beam=1, attention=True):
        """Per source (`load(source)` gives its samples and sampling rate): the spelling, its tokens, score, and per
        token the attention over the listener's positions (each `audio.frame_multiple` frames of 10 ms)."""
        self.check_beam(beam)
        features, good, errors = each(lambda source: self.frames(*load(source)), sources)
        multiple, results = self.manifest["audio"]["frame_multiple"], []
        for frames, result in zip(features, self.decode(self.encoder_inputs(audio=padded_frames(features, multiple)), beam) if features else []):
            tokens = self.tokenizer.tokens(result["ids"] + [self.tokenizer.EOS_ID])[: len(result["attention"])]
            positions = padded_length(len(frames), multiple) // multiple  # the rest is padding, which attention never weighs
            spelled = {"spelling": self.tokenizer.decode(result["ids"]), "tokens": tokens, "score": round(result["score"], 6), "frames": len(frames)}
            results.append(spelled | ({"attention": rounded(result["attention"][:, :positions])} if attention else {}))
        return merge(len(sources), good, results, errors)

    def check_top_k(self, top_k):
        classes = len(self.tokenizer.labels)
        if not 1 <= top_k <= classes:
            raise ZooError(f"--top-k must be between 1 and {classes}, not {top_k}")

    def classify(self, texts, top_k=3):
        """Per text: the `top_k` likeliest classes with their probabilities."""
        self.check_top_k(top_k)
        labels = self.tokenizer.labels
        graphs = self.artifact.graphs
        sequence = graphs.named("sequence")
        encoded, good, errors = each(lambda text: self.tokenizer.encode(text.strip(), self.manifest["max_length"]), texts)
        results = []
        if encoded:
            logits = self.artifact.run(sequence, {graphs.tensor(sequence, "inputs", "tokens"): pad_batch(encoded)})[graphs.tensor(sequence, "outputs", "class_logits")]
            for row in logits.astype("float64"):
                probabilities = np.exp(row - row.max())
                probabilities /= probabilities.sum()
                results.append({"classes": [{"label": labels[i], "probability": round(float(probabilities[i]), 4)} for i in np.argsort(-probabilities)[:top_k]]})
        return [{"text": text, **result} for text, result in zip(texts, merge(len(texts), good, results, errors))]

    def continuations(self, prompts, length, temperature=0.8, seed=0):
        """Per prompt: `length` characters sampled after it, or the error that stopped it."""
        results = []
        for prompt in prompts:
            try:
                results.append({"prompt": prompt, "generated": "".join(self.generate(prompt, length, temperature, seed))})
            except ZooError as error:
                results.append({"prompt": prompt, "error": str(error)})
        return results

    def check_sampling(self, temperature, seed):
        if not (math.isfinite(temperature) and temperature >= 0):
            raise ZooError(f"--temperature must be a finite number at least 0, not {temperature}")
        if seed < 0:
            raise ZooError(f"--seed must be at least 0, not {seed}")

    def generate(self, prompt, length, temperature=0.8, seed=0):
        """Yields `length` characters sampled after `prompt`, one at a time."""
        if not 1 <= length <= MAX_GENERATED:
            raise ZooError(f"--length must be between 1 and {MAX_GENERATED}, not {length}")
        self.check_sampling(temperature, seed)
        ids = sample_ids(self.artifact, self.tokenizer.encode(prompt), temperature, np.random.default_rng(seed))
        for _ in range(length):
            yield self.tokenizer.decode([next(ids)])

    def check_count(self, count):
        if not 1 <= count <= MAX_MOLECULES:
            raise ZooError(f"--count must be between 1 and {MAX_MOLECULES}, not {count}")

    def molecules(self, prefixes, count, temperature=1.0, seed=0):
        """Per SMILES prefix (which may be empty): `count` molecules sampled after it, each with RDKit's verdict
        (`valid`) and canonical form, and the valid share; or the error that stopped it."""
        self.check_count(count)
        self.check_sampling(temperature, seed)
        results = []
        for prefix in prefixes:
            try:
                samples = sample_smiles(self.artifact, self.tokenizer, prefix.strip(), count, temperature, np.random.default_rng(seed))
            except ZooError as error:
                results.append({"prompt": prefix, "error": str(error)})
                continue
            forms = [canonical(smiles) for smiles in samples]
            molecules = [{"smiles": smiles, "valid": form is not None, "canonical": form} for smiles, form in zip(samples, forms)]
            results.append({"prompt": prefix, "molecules": molecules, "valid_share": round(sum(m["valid"] for m in molecules) / count, 4)})
        return results
