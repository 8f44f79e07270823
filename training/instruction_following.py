"""Instructions to actions (Listen, attend and walk; Mei et al. 2016) on SCAN's grammar: exact match of the whole
action sequence, on SCAN's random split (new commands) or its length split (longer action sequences than any in training)."""
from training.batches import ArrayBatches
from training.data import scan
from training.scores import decode_widths
from training.translation import max_target_length, score, teacher_forcing, vocabulary_sizes
from zoo.core.tokenizers import TokenizerPair, WordTokenizer

EXAMPLES = ("jump twice after walk left", "turn around right and look thrice", "run opposite left thrice after jump around right twice")
ACTION_BUCKETS = ((1, 8), (9, 16), (17, 22), (24, 32), (33, 48))  # actions per command; 23 never occurs


class InstructionFollowing:
    """The task of one SCAN split (`random` or `length`), with the interface of `training.task.Task`."""

    MAX_LENGTH = 16  # command words, the end token included; SCAN's longest command has 9

    def __init__(self, split):
        self.split = split

    vocabulary_sizes = staticmethod(vocabulary_sizes)

    def prepare(self, recipe, seed):
        splits = scan.load_splits(self.split, seed)
        commands, actions = splits["train"]
        tokenizer = TokenizerPair(WordTokenizer.fit(commands), WordTokenizer.fit(actions))
        train = teacher_forcing(tokenizer, commands, actions)
        return tokenizer, {"train": ArrayBatches(train, recipe.batch_size, seed), "validation": teacher_forcing(tokenizer, *splits["validation"])}

    def held_out_inputs(self, tokenizer, seed):
        """Source ids of the test commands, which the parity gate decodes."""
        return tokenizer.source.encode_batch(scan.load_splits(self.split, seed)["test"][0])

    def evaluate(self, model, tokenizer, seed, split="test", beam_widths=(1, 4)):
        """Exact match and token accuracy of greedy and beam decoding, overall and per action-count bucket."""
        commands, actions = scan.load_splits(self.split, seed)[split]
        decoded = decode_widths(model, tokenizer.source.encode_batch(commands), max_target_length(tokenizer, actions) + 5, beam_widths)
        metrics = {"test_commands": len(commands)}
        for decoding, results in decoded.items():
            overall = score(tokenizer, results, actions)
            metrics[f"test_{decoding}_exact_match"], metrics[f"test_{decoding}_token_accuracy"] = overall["exact_match"], overall["token_accuracy"]
            for low, high in ACTION_BUCKETS:
                rows = [i for i, text in enumerate(actions) if low <= len(text.split()) <= high]
                if rows:
                    metrics[f"{decoding}_exact_match_{low}_{high}_actions"] = score(tokenizer, [results[i] for i in rows], [actions[i] for i in rows])["exact_match"]
        return metrics

    def card_extras(self, model, tokenizer, metrics, folder):
        results = decode_widths(model, tokenizer.source.encode_batch(EXAMPLES), 60, (1,))["greedy"]
        references = dict(scan.commands())
        return {"examples_decoding": "greedy", "examples": [{"source": c, "translation": tokenizer.target.decode(r["ids"]), "reference": references[c].lower()} for c, r in zip(EXAMPLES, results)]}
