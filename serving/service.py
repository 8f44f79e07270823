"""`python -m serving ARTIFACT --http`: the runtime behind an HTTP API, for one or several artifacts in one process.

Routes by task (`POST /v1/translate`, `/v1/caption`, `/v1/answer`, `/v1/spell`, `/v1/classify`, `/v1/generate`, `/v1/molecules`), `GET /v1/models`,
`GET /v1/model`, `GET /health`, the OpenAPI schema at `/openapi.json`, and a page at `/`. A request names its model
with `"model": NAME` (a form field for uploads), which may be left out when one loaded model does the route's task.

Every answer that is not a result is `{"error": "one line"}` with a 4xx status (a 503 past the timeout): requests
that cannot be read as the route's request (malformed JSON, wrong types, missing or unknown fields, a limit
exceeded, base64, an image or a WAV file that does not decode, the wrong route or model) are refused whole; an item the model
cannot take (unknown words, too many tokens) fails alone in `results`, beside every other item's result.
Results are the runtime's, so the same as `python -m serving ARTIFACT --text ... --json` gives.
"""
import asyncio
import base64
import binascii
import io
import json
import signal
import socket
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from serving.limits import Limits
from serving.overlay import load_image
from serving.schemas import AnswerRequest, CaptionRequest, ClassifyRequest, GenerateRequest, MoleculesRequest, SpellRequest, TranslateRequest
from zoo.core.audio import read_wav
from zoo.core.errors import ZooError

ROUTES = {
    "translation": "/v1/translate", "captioning": "/v1/caption", "question_answering": "/v1/answer", "speech_recognition": "/v1/spell",
    "classification": "/v1/classify",
    "language_model": "/v1/generate", "molecule_generation": "/v1/molecules",
}
STATIC = Path(__file__).parent / "static"
# The runtime names the command line's options; over HTTP they are the JSON fields.
FIELDS = {"--beam": "beam", "--top-k": "top_k", "--length": "length", "--count": "count", "--temperature": "temperature", "--seed": "seed"}


def error(status, message):
    return JSONResponse({"error": message}, status)


def one_line(text):
    return " ".join(str(text).split())


def as_fields(message):
    for option, field in FIELDS.items():
        message = message.replace(option, field)
    return message


def validation_message(errors):
    """The first problem of a body that does not fit its schema, naming the field (`texts.2: ...`)."""
    first = errors[0]
    if first["type"] == "json_invalid":
        return 400, f"malformed JSON at character {first['loc'][-1]}: {first.get('ctx', {}).get('error', first['msg'])}"
    if isinstance(first.get("input"), bytes):  # FastAPI reads JSON only when the Content-Type says so, or is absent
        return 415, "the body must be JSON, sent with Content-Type: application/json"
    where = ".".join(str(part) for part in first["loc"] if part != "body") or "body"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return 422, f"{where}: {first['msg']}{more}"


def bounded(app, limits):
    """ASGI middleware: bodies over `limits.body_bytes` get a 413 (by Content-Length, or as they stream in), and a
    request still unanswered after `limits.timeout_s` a 503."""

    async def guarded(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        too_large = f"the request body is larger than the {limits.body_mb:g} MB limit"
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > limits.body_bytes:
            return await error(413, too_large)(scope, receive, send)
        received, started = 0, False

        async def receiving():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limits.body_bytes:
                raise HTTPException(413, too_large)  # inside the route's body read: the error handlers answer it
            return message

        async def sending(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await asyncio.wait_for(app(scope, receiving, sending), limits.timeout_s)
        except TimeoutError:
            if not started:
                await error(503, f"no answer within the {limits.timeout_s:g} s limit: the server is busy, try again")(scope, receive, send)

    return guarded


def model_summary(name, runtime):
    """What GET /v1/model tells: the preset, its task and route, the metrics of the shipped preset, the parity verdict."""
    manifest, artifact = runtime.manifest, runtime.artifact
    metadata = json.loads(artifact.checked("preset/metadata.json").read_text()) if "preset/metadata.json" in manifest["files"] else {}
    parity = manifest.get("parity") or {}
    candidates = sorted({row["candidate"] for row in parity.get("rows", [])} | set(parity.get("attention_invariants", {})))
    return {
        "name": name,
        "preset": manifest["preset"],
        "family": manifest["family"],
        "task": manifest["task"],
        "route": ROUTES[manifest["task"]],
        "parameters": metadata.get("parameters"),
        "metrics": metadata.get("metrics", {}),
        "parity": {"passed": parity.get("passed"), "checked_against": candidates} if parity else None,
        "attention": any(tensor["role"] == "attention" for spec in manifest["graphs"].values() for tensor in spec["outputs"]),
        "max_length": manifest["max_length"],
    }


def image_array(data, shape, limits, name):
    """A grey uint8 image from uploaded bytes, its size checked from the header before it is decoded."""
    try:
        return load_image(io.BytesIO(data), shape, int(limits.megapixels * 1_000_000), name)
    except ZooError:
        raise
    except Exception as problem:  # Pillow's decoders raise assorted errors on damaged files: one line each
        raise ZooError(f"{name} cannot be decoded: {one_line(problem) or type(problem).__name__}") from None


def base64_bytes(text, name):
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]  # a data URL, as a browser's FileReader writes it
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ZooError(f"{name} is not valid base64") from None


def checked(schema, data, strict=None):
    try:
        return schema.model_validate(data, strict=strict)
    except ValidationError as problem:
        raise RequestValidationError(problem.errors()) from None


def create_app(runtimes, limits, submit, lifespan=None):
    """The FastAPI app over `runtimes` ({name: Runtime}); `submit(key, items, run)` decodes, batching requests of
    equal key (a `Batcher`'s, or a Ray Serve replica's), and returns (results, items in the decoder batch)."""
    app = FastAPI(title="attention-zoo", description=__doc__, version="1", lifespan=lifespan)
    summaries = {name: model_summary(name, runtime) for name, runtime in runtimes.items()}
    app.add_middleware(bounded, limits=limits)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, problem):
        if problem.status_code == 404 and problem.detail == "Not Found":
            return error(404, f"no route {request.method} {request.url.path}: see /openapi.json")
        if problem.status_code == 405:
            return error(405, f"{request.url.path} does not take {request.method}: see /openapi.json")
        return error(problem.status_code, one_line(problem.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request, problem):
        return error(*validation_message(problem.errors()))

    @app.exception_handler(ZooError)
    async def refused(request, problem):
        return error(422, one_line(as_fields(str(problem))))

    @app.exception_handler(Exception)
    async def failed(request, problem):  # a fault of the server's: one line to the client (the log keeps the traceback)
        return error(500, f"internal error: {type(problem).__name__}: {one_line(problem)}")

    def pick(name, task):
        """The runtime that answers `task` for a request naming `name` (or none)."""
        if name is None:
            able = [model for model, runtime in runtimes.items() if runtime.task == task]
            if len(able) == 1:
                return able[0], runtimes[able[0]]
            if not able:
                served = ", ".join(f"{model} ({summary['route']})" for model, summary in summaries.items())
                raise HTTPException(404, f"this server has no {task.replace('_', ' ')} model: it serves {served}")
            raise HTTPException(422, f"this server has several {task.replace('_', ' ')} models ({', '.join(able)}): name one in \"model\"")
        if name not in runtimes:
            raise HTTPException(404, f"no model named {name!r}: this server has {', '.join(runtimes)}")
        if runtimes[name].task != task:
            raise HTTPException(422, f"{name} is a {runtimes[name].task.replace('_', ' ')} model: POST to {summaries[name]['route']}")
        return name, runtimes[name]

    def check_count(count, field):
        if count > limits.items:
            raise HTTPException(422, f"{field}: {count} items, more than the {limits.items} per request this server takes")

    def check_texts(texts, field):
        check_count(len(texts), field)
        for index, text in enumerate(texts):
            if len(text) > limits.text_characters:
                raise HTTPException(422, f"{field}.{index}: {len(text)} characters, more than the {limits.text_characters} this server takes")

    async def answer(name, key, items, run):
        try:
            results, batch = await submit(None if key is None else (name, *key), items, run)
        except ZooError:
            raise
        except Exception as problem:  # a fault of the server's, not the request's: still one line, never a traceback
            return error(500, f"internal error: {type(problem).__name__}: {one_line(problem)}")
        return JSONResponse({"model": name, "results": results}, headers={"X-Batch-Items": str(batch)})

    @app.post("/v1/translate", summary="Translate texts: per text the translation, tokens, score and attention (target x source)")
    async def translate(body: TranslateRequest):
        name, runtime = pick(body.model, "translation")
        check_texts(body.texts, "texts")
        runtime.check_beam(body.beam)
        return await answer(name, ("translate", body.beam, body.attention), body.texts, lambda texts: runtime.translate(texts, body.beam, body.attention))

    @app.post("/v1/classify", summary="Classify texts: per text the top_k classes and their probabilities")
    async def classify(body: ClassifyRequest):
        name, runtime = pick(body.model, "classification")
        check_texts(body.texts, "texts")
        runtime.check_top_k(body.top_k)
        return await answer(name, ("classify", body.top_k), body.texts, lambda texts: runtime.classify(texts, body.top_k))

    @app.post("/v1/generate", summary="Continue prompts: per prompt `length` sampled characters")
    async def generate(body: GenerateRequest):
        name, runtime = pick(body.model, "language_model")
        check_texts(body.prompts, "prompts")
        # Sampling draws each prompt's characters one after another: a request is never merged with another.
        return await answer(name, None, body.prompts, lambda prompts: runtime.continuations(prompts, body.length, body.temperature, body.seed))

    @app.post("/v1/molecules", summary="Sample molecules: per SMILES prefix `count` samples, each valid or not by RDKit, with its canonical form")
    async def molecules(body: MoleculesRequest):
        name, runtime = pick(body.model, "molecule_generation")
        check_texts(body.prompts, "prompts")
        # Each prompt's samples are drawn side by side already: a request is never merged with another.
        return await answer(name, None, body.prompts, lambda prompts: runtime.molecules(prompts, body.count, body.temperature, body.seed))

    caption_body = {"content": {
        "application/json": {"schema": CaptionRequest.model_json_schema()},
        "multipart/form-data": {"schema": {"type": "object", "required": ["image"], "properties": {
            "image": {"type": "array", "items": {"type": "string", "format": "binary"}, "description": "one or more image files"},
            "beam": {"type": "integer", "default": 1}, "attention": {"type": "boolean", "default": True}, "model": {"type": "string"}}}},
    }, "required": True}

    async def caption_request(request):
        """The request's options, and its images as (bytes, name): from a multipart form, or JSON with base64."""
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            form = await request.form(max_files=limits.items, max_fields=8)
            uploads = form.getlist("image")
            fields = {key: value for key, value in form.multi_items() if key != "image"}
            if not uploads or any(isinstance(value, str) for value in uploads) or any(not isinstance(value, str) for value in fields.values()):
                raise HTTPException(422, "image: a form needs one or more image fields, each a file (its other fields are text)")
            # Form fields are text: read them leniently ("4", "false"); the images are read below.
            body = checked(CaptionRequest, {**fields, "images": ["upload"] * len(uploads)}, strict=False)
            return body, [(await upload.read(), f"image {index} ({upload.filename})") for index, upload in enumerate(uploads)]
        try:
            data = json.loads(await request.body())
        except (ValueError, RecursionError) as problem:  # RecursionError: arrays nested thousands deep
            raise RequestValidationError([{"type": "json_invalid", "loc": ("body", getattr(problem, "pos", 0)), "msg": getattr(problem, "msg", str(problem))}]) from None
        body = checked(CaptionRequest, data)
        return body, [(base64_bytes(text, f"images.{index}"), f"images.{index}") for index, text in enumerate(body.images)]

    @app.post("/v1/caption", summary="Caption images (multipart upload or JSON base64): per image the caption, tokens, score and attention grids", openapi_extra={"requestBody": caption_body})
    async def caption(request: Request):
        body, named = await caption_request(request)
        name, runtime = pick(body.model, "captioning")
        check_count(len(named), "images")
        runtime.check_beam(body.beam)
        images = await asyncio.to_thread(lambda: [image_array(data, runtime.image_shape, limits, label) for data, label in named])
        return await answer(name, ("caption", body.beam, body.attention), images, lambda arrays: runtime.caption(arrays, lambda array: array, body.beam, body.attention))

    @app.post("/v1/answer", summary="Answer a question about each image (JSON base64): per image the answer, tokens, score and attention grids")
    async def answer_questions(body: AnswerRequest):
        name, runtime = pick(body.model, "question_answering")
        if len(body.questions) != len(body.images):
            raise HTTPException(422, f"questions: {len(body.questions)} for {len(body.images)} images; give one question per image")
        check_count(len(body.images), "images")
        check_texts(body.questions, "questions")
        runtime.check_beam(body.beam)
        named = [(base64_bytes(text, f"images.{index}"), f"images.{index}") for index, text in enumerate(body.images)]
        images = await asyncio.to_thread(lambda: [image_array(data, runtime.image_shape, limits, label) for data, label in named])
        items = list(zip(images, body.questions))
        return await answer(name, ("answer", body.beam, body.attention), items, lambda items: runtime.answer(items, lambda array: array, body.beam, body.attention))

    @app.post("/v1/spell", summary="Spell speech (JSON base64 WAV): per recording the spelling, tokens, score and attention over the listener's positions")
    async def spell(body: SpellRequest):
        name, runtime = pick(body.model, "speech_recognition")
        check_count(len(body.audio), "audio")
        runtime.check_beam(body.beam)
        recordings = await asyncio.to_thread(lambda: [read_wav(base64_bytes(text, f"audio.{index}"), f"audio.{index}") for index, text in enumerate(body.audio)])
        return await answer(name, ("spell", body.beam, body.attention), recordings, lambda items: runtime.spell(items, lambda item: item, body.beam, body.attention))

    @app.get("/v1/models", summary="Every model this server holds")
    async def models():
        return {"models": list(summaries.values())}

    @app.get("/v1/model", summary="One model's summary: preset, task, route, the shipped preset's metrics, the parity verdict")
    async def model(model: str | None = None):
        if model is None and len(summaries) > 1:
            raise HTTPException(422, f"this server has several models ({', '.join(summaries)}): name one with ?model=NAME")
        if model is not None and model not in summaries:
            raise HTTPException(404, f"no model named {model!r}: this server has {', '.join(summaries)}")
        return summaries[model or next(iter(summaries))]

    @app.get("/health", summary="Ready to answer")
    async def health():
        return {"status": "ok", "models": list(summaries)}

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def serve(runtimes, host="127.0.0.1", port=8000, limits=None, max_batch=64, max_wait_ms=5.0, merging=True):
    """Serves until SIGTERM or Ctrl-C, then stops taking connections and finishes the requests it holds."""
    import uvicorn

    from serving.batcher import Batcher

    limits = limits or Limits()
    try:  # bound here, so that a taken port is this project's one-line error
        listening = socket.create_server((host, port))
    except OSError as problem:
        raise ZooError(f"cannot listen on {host}:{port}: {problem.strerror or problem}") from None
    batcher = Batcher(max_batch, max_wait_ms, merging)
    app = create_app(runtimes, limits, batcher.submit, batcher.running)
    # uvicorn re-raises the stopping signal once it has shut down, under the handler it found: a no-op one makes a
    # clean stop exit 0 (not -15, nor a KeyboardInterrupt traceback).
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, lambda *_: None)
    # Requests in flight at SIGTERM finish within their own timeout; past it and a margin the server stops anyway.
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=limits.timeout_s + 5)
    uvicorn.Server(config).run(sockets=[listening])
