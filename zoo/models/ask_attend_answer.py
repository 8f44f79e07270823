"""Visual question answering with soft attention over a CNN grid (Ask, Attend and Answer, Xu and Saenko 2016;
Show, Ask, Attend, and Answer, Kazemi and Elqursh 2017)."""
import keras
from keras import ops

from zoo.core.contract import role
from zoo.models.show_attend_tell import ShowAttendTell


@keras.saving.register_keras_serializable(package="zoo")
class AskAttendAnswer(ShowAttendTell):
    """Show, Attend and Tell asked a question: a GRU reads the question, and its final state starts the answer's
    decoder, so the question is the first query of the attention over the image's grid. The image reaches the
    answer only through that attention.

    Call on {"image", "question": (batch, question_len), "target_in": (batch, answer_len)} for teacher-forced
    logits; id 0 is padding in both token inputs.
    """

    def __init__(self, question_vocab_size, vocab_size, question_units=128, **kwargs):
        super().__init__(vocab_size, **kwargs)
        self.question_vocab_size = question_vocab_size
        self.question_units = question_units
        self.question_embedding = keras.layers.Embedding(question_vocab_size, self.embedding_dim, name="question_embedding")
        self.question_reader = keras.layers.GRU(question_units, name="question_reader")

    def source_inputs(self):
        question = keras.Input((None,), dtype="int32", name="question")
        return super().source_inputs() | {"question": (question, role("tokens", "source"))}

    def vocabularies(self):
        return {"source": self.question_vocab_size, "target": self.vocab_size}

    def encode(self, image, question, training=None):
        """The image's memory {annotations, projected_keys} and the decoder's initial state from the question."""
        read = self.question_reader(self.question_embedding(question), mask=ops.not_equal(question, 0))
        return self.annotate(image), self.initial_state(read)

    def build_for_inputs(self):
        self({"image": ops.zeros((1, *self.image_shape, 1)), "question": ops.ones((1, 2), dtype="int32"), "target_in": ops.ones((1, 1), dtype="int32")})

    def get_config(self):
        return {**super().get_config(), "question_vocab_size": self.question_vocab_size, "question_units": self.question_units}
