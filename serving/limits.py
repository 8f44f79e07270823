"""What the HTTP service accepts: requests beyond these get a 4xx (or a 503 past the timeout) with a one-line error."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    body_mb: float = 16.0  # a request body, JSON or multipart: a dozen photos as base64
    items: int = 64  # texts, prompts or images per request: one decoder batch of the runtime's
    text_characters: int = 2_000  # per text or prompt; the model's own token limit is checked per item after it
    megapixels: float = 16.0  # per image, read from its header before it is decoded: a phone photo passes, a bomb does not
    timeout_s: float = 60.0  # per request, from its first byte to its answer

    @property
    def body_bytes(self):
        return int(self.body_mb * 1_000_000)
