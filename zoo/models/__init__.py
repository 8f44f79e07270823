from zoo.models.ask_attend_answer import AskAttendAnswer
from zoo.models.attention_seq2seq import AttentionSeq2Seq
from zoo.models.listen_attend_spell import ListenAttendSpell
from zoo.models.seq2seq import Seq2Seq
from zoo.models.show_attend_tell import ShowAttendTell
from zoo.models.vanilla_rnn import VanillaRNN

MODEL_CLASSES = {cls.__name__: cls for cls in (VanillaRNN, Seq2Seq, AttentionSeq2Seq, ShowAttendTell, AskAttendAnswer, ListenAttendSpell)}
