"""The HTTP service's JSON request bodies, one per route: FastAPI checks them and writes them into the OpenAPI schema.

Strict: `"beam": "4"` or `"attention": 1` is refused rather than guessed at, and so is an unknown field (a typo
such as `"beams"` would otherwise be ignored silently). Limits that the server's options set (texts per request,
characters per text) and those that depend on the model (the widest beam, `top_k`) are checked by the service.
"""
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field

from serving.runtime import MAX_BEAM, MAX_GENERATED, MAX_MOLECULES

MODEL = Field(None, description="the model's name (GET /v1/models); optional when the server holds one model for this route")
BEAM = Field(1, ge=1, le=MAX_BEAM, description="beam width; 1 is greedy decoding")
ATTENTION = Field(True, description="include the attention weights")
SEED = Field(0, ge=0)


def temperature(default):
    return Field(default, ge=0, allow_inf_nan=False, description="sampling temperature; 0 is greedy")


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class TranslateRequest(Strict):
    texts: list[str] = Field(min_length=1, description="the sentences to translate, each translated (or refused) alone")
    beam: int = BEAM
    attention: bool = ATTENTION
    model: Optional[str] = MODEL


class CaptionRequest(Strict):
    images: list[str] = Field(min_length=1, description="images as base64 (a `data:image/...;base64,` prefix is allowed), any format Pillow reads")
    beam: int = BEAM
    attention: bool = ATTENTION
    model: Optional[str] = MODEL


class AnswerRequest(Strict):
    images: list[str] = Field(min_length=1, description="images as base64 (a `data:image/...;base64,` prefix is allowed), any format Pillow reads")
    questions: list[str] = Field(min_length=1, description="one question per image, in the same order")
    beam: int = BEAM
    attention: bool = ATTENTION
    model: Optional[str] = MODEL


class SpellRequest(Strict):
    audio: list[str] = Field(min_length=1, description="PCM WAV files as base64 (a `data:audio/...;base64,` prefix is allowed), sampled at 16 kHz or more")
    beam: int = BEAM
    attention: bool = ATTENTION
    model: Optional[str] = MODEL


class ClassifyRequest(Strict):
    texts: list[str] = Field(min_length=1)
    top_k: int = Field(3, ge=1, description="classes to return per text")
    model: Optional[str] = MODEL


class GenerateRequest(Strict):
    prompts: list[str] = Field(min_length=1, description="texts to continue, each alone")
    length: int = Field(200, ge=1, le=MAX_GENERATED, description="characters to generate per prompt")
    temperature: float = temperature(0.8)
    seed: int = SEED
    model: Optional[str] = MODEL


class MoleculesRequest(Strict):
    prompts: list[str] = Field(min_length=1, description="SMILES prefixes, each sampled alone; \"\" for whole molecules")
    count: int = Field(10, ge=1, le=MAX_MOLECULES, description="molecules to sample per prompt")
    temperature: float = temperature(1.0)
    seed: int = SEED
    model: Optional[str] = MODEL
