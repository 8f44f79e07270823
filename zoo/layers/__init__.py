from zoo.layers.bahdanau_attention import BahdanauAttention
from zoo.layers.pairs import Pairs
from zoo.layers.tied_output import TiedOutput
__all__ = ["BahdanauAttention", "Pairs", "TiedOutput"]
