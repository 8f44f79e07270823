from zoo.models.vanilla_rnn import VanillaRNN

MODEL_CLASSES = {"VanillaRNN": VanillaRNN}
