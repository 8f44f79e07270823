"""The HTTP service, as a real server process on localhost: the CLI's results per route, cross-request batching,
per-item errors, every bad request a one-line 4xx, SIGTERM, and the page in a real browser."""
import base64
import io
import json
import os
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from tests.conftest import FRAMEWORKS, blocking, http_server, once, run, same

NUMBERS = ["seven", "four hundred and twenty-three", "one million two hundred thousand and five", "ninety-one", "twelve thousand", "sixty"]
LIMITS = ["--max-items", "6", "--max-text-chars", "300", "--max-body-mb", "1", "--max-megapixels", "0.5"]


@pytest.fixture(scope="module")
def server(artifacts):
    """One server for the module: two translators, the captioner, the question answerer, the speller, the classifier, the language model and the molecule generator."""
    import httpx

    names = {
        "numbers": "attention_en_fr_numbers", "fixed": "seq2seq_en_fr_numbers", "scenes": "sat_fashion_scenes", "questions": "answer_scene_questions",
        "speech": "spell_spoken_numbers", "surnames": "rnn_surname_origin", "shakespeare": "char_rnn_shakespeare", "molecules": "smiles_rnn_moses",
    }
    options = [f"--artifact={name}={artifacts[preset]}" for name, preset in names.items()]
    with http_server(*options, *LIMITS, "--max-wait-ms", "50") as (url, _), httpx.Client(base_url=url, timeout=120) as client:
        yield client


def cli_json(folder, *arguments):
    result = json.loads(run("-m", "serving", str(folder), *arguments, "--json").stdout)
    return {key: value for key, value in result.items() if key not in ("preset", "provider")}


def png(image):
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@once
def test_every_route_answers_what_the_command_line_answers(server, artifacts, scene_files, spoken_files):
    image, _, _ = scene_files
    translated = server.post("/v1/translate", json={"model": "numbers", "texts": ["four hundred and twenty-three"], "beam": 4}).json()
    assert translated == {"model": "numbers", "results": [cli_json(artifacts["attention_en_fr_numbers"], "--text", "four hundred and twenty-three", "--beam", "4")]}
    fixed = server.post("/v1/translate", json={"model": "fixed", "texts": ["ninety-one"]}).json()["results"]
    assert fixed == [cli_json(artifacts["seq2seq_en_fr_numbers"], "--text", "ninety-one")] and "attention" not in fixed[0]
    expected = cli_json(artifacts["sat_fashion_scenes"], "--image", str(image), "--beam", "2")
    uploaded = server.post("/v1/caption", files={"image": ("scene.png", image.read_bytes(), "image/png")}, data={"beam": "2"}).json()["results"]
    encoded = server.post("/v1/caption", json={"images": [base64.b64encode(image.read_bytes()).decode()], "beam": 2}).json()["results"]
    assert uploaded == encoded == [expected] and np.array(expected["attention"]).shape == (len(expected["tokens"]), 6, 6)
    asked = ["what is at the top left?", "how many dresses are there?"]
    answered = server.post("/v1/answer", json={"images": [base64.b64encode(image.read_bytes()).decode()] * 2, "questions": asked, "beam": 2}).json()["results"]
    # Asked together, the two rows share a batch: the same tokens, the scores within fp32 rounding of asking each alone.
    assert same(answered, [cli_json(artifacts["answer_scene_questions"], "--image", str(image), "--question", question, "--beam", "2") for question in asked])
    recordings = list(spoken_files.values())
    spelled = server.post("/v1/spell", json={"audio": [base64.b64encode(path.read_bytes()).decode() for path in recordings], "beam": 2}).json()["results"]
    assert same(spelled, [cli_json(artifacts["spell_spoken_numbers"], "--audio", str(path), "--beam", "2") for path in recordings])
    classified = server.post("/v1/classify", json={"texts": ["Nakamura"], "top_k": 5}).json()["results"]
    assert classified == [cli_json(artifacts["rnn_surname_origin"], "--text", "Nakamura", "--top-k", "5")]
    generated = server.post("/v1/generate", json={"prompts": ["ROMEO:"], "length": 60, "seed": 3}).json()["results"]
    assert generated == [cli_json(artifacts["char_rnn_shakespeare"], "--prompt", "ROMEO:", "--length", "60", "--seed", "3")]
    sampled = server.post("/v1/molecules", json={"prompts": ["", "CC(=O)"], "count": 8, "seed": 1}).json()["results"]
    assert sampled == [cli_json(artifacts["smiles_rnn_moses"], "--prompt", prompt, "--count", "8", "--seed", "1") for prompt in ("", "CC(=O)")]


@once
def test_concurrent_requests_share_a_decoder_batch_and_get_their_own_results(server):
    alone = server.post("/v1/translate", json={"model": "numbers", "texts": NUMBERS, "beam": 3}).json()["results"]
    with ThreadPoolExecutor(len(NUMBERS)) as pool:
        answers = list(pool.map(lambda text: server.post("/v1/translate", json={"model": "numbers", "texts": [text], "beam": 3}), NUMBERS))
    assert same([answer.json()["results"][0] for answer in answers], alone)
    assert max(int(answer.headers["x-batch-items"]) for answer in answers) > 1  # merged within --max-wait-ms 50


@once
def test_a_bad_text_fails_alone(server):
    results = server.post("/v1/translate", json={"model": "numbers", "texts": ["seven", "twelvety", " ", "sixty"], "attention": False}).json()["results"]
    assert [result.get("translation") for result in results] == ["sept", None, None, "soixante"]
    assert "twelvety" in results[1]["error"] and "empty" in results[2]["error"] and results[2]["text"] == " "


def bad_requests(client):
    """(what, response, status, words the one-line error must hold) for every kind of bad request."""
    from PIL import Image

    scene = base64.b64encode(png(Image.new("L", (84, 84)))).decode()
    large = png(Image.new("L", (1_000, 1_000)))  # 1 megapixel, over --max-megapixels 0.5, 4 kB of PNG
    translate = lambda **options: client.post("/v1/translate", **options)  # noqa: E731
    return [
        ("malformed JSON", translate(content=b'{"texts": ["seven"', headers={"content-type": "application/json"}), 400, ["malformed JSON"]),
        ("not JSON at all", translate(content=b"seven", headers={"content-type": "text/plain"}), 415, ["JSON"]),
        ("an array body", translate(json=["seven"]), 422, ["body"]),
        ("texts a string", translate(json={"model": "numbers", "texts": "seven"}), 422, ["texts", "list"]),
        ("a number among texts", translate(json={"model": "numbers", "texts": ["seven", 7]}), 422, ["texts.1", "string"]),
        ("beam a string", translate(json={"model": "numbers", "texts": ["seven"], "beam": "4"}), 422, ["beam"]),
        ("attention a number", translate(json={"model": "numbers", "texts": ["seven"], "attention": 1}), 422, ["attention"]),
        ("missing texts", translate(json={"model": "numbers"}), 422, ["texts", "required"]),
        ("no texts", translate(json={"model": "numbers", "texts": []}), 422, ["texts"]),
        ("a misspelt field", translate(json={"model": "numbers", "texts": ["seven"], "beams": 2}), 422, ["beams"]),
        ("too many texts", translate(json={"model": "numbers", "texts": ["seven"] * 7}), 422, ["7 items", "6 per request"]),
        ("too long a text", translate(json={"model": "numbers", "texts": ["seven " * 60]}), 422, ["texts.0", "360 characters", "300"]),
        ("a huge body", translate(content=b'{"texts": ["' + b"seven " * 200_000 + b'"]}', headers={"content-type": "application/json"}), 413, ["1 MB"]),
        ("beam 0", translate(json={"model": "numbers", "texts": ["seven"], "beam": 0}), 422, ["beam"]),
        ("beam 17", translate(json={"model": "numbers", "texts": ["seven"], "beam": 17}), 422, ["beam", "16"]),
        ("no model named", translate(json={"texts": ["seven"]}), 422, ["several translation models", "numbers", "fixed"]),
        ("an unknown model", translate(json={"model": "klingon", "texts": ["seven"]}), 404, ["klingon", "numbers"]),
        ("the wrong task's route", translate(json={"model": "scenes", "texts": ["seven"]}), 422, ["scenes is a captioning model", "/v1/caption"]),
        ("malformed JSON for a caption", client.post("/v1/caption", content=b'{"images": [', headers={"content-type": "application/json"}), 400, ["malformed JSON"]),
        ("bad base64", client.post("/v1/caption", json={"images": ["not base64!"]}), 422, ["images.0", "base64"]),
        ("not an image", client.post("/v1/caption", json={"images": [base64.b64encode(b"hello").decode()]}), 422, ["images.0", "not an image"]),
        ("an image too large", client.post("/v1/caption", json={"images": [scene, base64.b64encode(large).decode()]}), 422, ["images.1", "1000 x 1000", "0.5-megapixel"]),
        ("a damaged image", client.post("/v1/caption", json={"images": [base64.b64encode(png(Image.new("L", (84, 84)))[:60]).decode()]}), 422, ["images.0"]),
        ("an upload not an image", client.post("/v1/caption", files={"image": ("notes.png", b"not an image", "image/png")}), 422, ["notes.png", "not an image"]),
        ("a form without a file", client.post("/v1/caption", data={"beam": "2"}, files={"other": ("x", b"x")}), 422, ["image"]),
        ("a question short", client.post("/v1/answer", json={"images": [scene, scene], "questions": ["is there a dress?"]}), 422, ["questions", "1 for 2 images"]),
        ("not a WAV file", client.post("/v1/spell", json={"audio": [base64.b64encode(b"RIFF....WAVE").decode()]}), 422, ["audio.0", "not a PCM WAV file"]),
        ("a form with a bad beam", client.post("/v1/caption", data={"beam": "wide"}, files={"image": ("scene.png", base64.b64decode(scene), "image/png")}), 422, ["beam"]),
        ("top_k too large", client.post("/v1/classify", json={"texts": ["Nakamura"], "top_k": 19}), 422, ["top_k", "18"]),
        ("length 0", client.post("/v1/generate", json={"prompts": ["ROMEO:"], "length": 0}), 422, ["length"]),
        ("temperature below 0", client.post("/v1/generate", json={"prompts": ["ROMEO:"], "temperature": -1}), 422, ["temperature"]),
        ("an unknown route", client.post("/v1/summarise", json={}), 404, ["/v1/summarise"]),
        ("the wrong method", client.get("/v1/translate"), 405, ["GET"]),
        ("a model summary without a name", client.get("/v1/model"), 422, ["several models"]),
    ]


@once
def test_every_bad_request_is_a_one_line_4xx_and_the_server_goes_on(server):
    for what, response, status, words in bad_requests(server):
        body = response.json()
        assert response.status_code == status and list(body) == ["error"], (what, response.status_code, body)
        assert "\n" not in body["error"] and "Traceback" not in body["error"], (what, body)
        assert all(word in body["error"] for word in words), (what, body["error"])
    assert server.post("/v1/translate", json={"model": "numbers", "texts": ["seven"]}).json()["results"][0]["translation"] == "sept"


@once
def test_models_health_and_openapi(server):
    models = {model["name"]: model for model in server.get("/v1/models").json()["models"]}
    assert list(models) == ["numbers", "fixed", "scenes", "questions", "speech", "surnames", "shakespeare", "molecules"]
    numbers = server.get("/v1/model", params={"model": "numbers"}).json()
    assert numbers == models["numbers"] and numbers["preset"] == "attention_en_fr_numbers" and numbers["route"] == "/v1/translate"
    assert numbers["parity"]["passed"] is True and numbers["metrics"]["test_greedy_exact_match"] > 0.9 and numbers["attention"]
    assert models["fixed"]["attention"] is False and models["scenes"]["task"] == "captioning"
    assert server.get("/health").json() == {"status": "ok", "models": list(models)}
    schema = server.get("/openapi.json").json()
    assert {"/v1/translate", "/v1/caption", "/v1/answer", "/v1/spell", "/v1/classify", "/v1/generate", "/v1/molecules", "/v1/model", "/v1/models", "/health"} <= set(schema["paths"])
    assert {"application/json", "multipart/form-data"} == set(schema["paths"]["/v1/caption"]["post"]["requestBody"]["content"])


@once
@pytest.mark.parametrize(
    "arguments, words",
    [
        (["--http", "--max-batch", "0"], ["--max-batch", "more than 0"]),
        (["--http", "--timeout-s", "nan"], ["--timeout-s"]),
        (["--http", "--max-wait-ms", "-1"], ["--max-wait-ms", "at least 0"]),
        (["--http", "--port", "70000"], ["--port", "65535"]),
        (["--http", "--artifact", "surnames"], ["NAME=DIR", "surnames"]),
        (["--http", "--artifact", "other=/nowhere"], ["no artifact folder", "/nowhere"]),
        (["--http", "--artifact", "rnn_surname_origin={folder}"], ["two artifacts are named rnn_surname_origin"]),
        (["--text", "Nakamura", "--artifact", "other={folder}"], ["--artifact", "--http"]),
    ],
)
def test_bad_service_options_are_one_line_errors(artifacts, arguments, words):
    import serving.__main__

    folder = str(artifacts["rnn_surname_origin"])
    with pytest.raises(SystemExit) as end:
        serving.__main__.main([folder, *(argument.format(folder=folder) for argument in arguments)])
    assert str(end.value.code).startswith("error: ") and "\n" not in str(end.value.code), end.value.code
    assert all(word in end.value.code for word in words), end.value.code


@once
def test_a_taken_port_is_a_one_line_error(artifacts):
    import serving.__main__

    with socket.create_server(("127.0.0.1", 0)) as taken, pytest.raises(SystemExit, match="error: cannot listen on 127.0.0.1:[0-9]+: Address already in use"):
        serving.__main__.main([str(artifacts["rnn_surname_origin"]), "--http", "--port", str(taken.getsockname()[1])])


@once
def test_an_artifact_is_needed():
    import serving.__main__

    with pytest.raises(SystemExit, match="give an artifact folder or --artifact NAME=DIR"):
        serving.__main__.main(["--http"])


@once
def test_the_service_imports_no_deep_learning_framework(artifacts):
    script = (
        blocking(*FRAMEWORKS) +
        "from serving.artifact import Artifact\n"
        "from serving.batcher import Batcher\n"
        "from serving.limits import Limits\n"
        "from serving.runtime import Runtime\n"
        "from serving.service import create_app\n"
        f"create_app({{'surnames': Runtime(Artifact({str(artifacts['rnn_surname_origin'])!r}))}}, Limits(), Batcher().submit)\n"
        f"assert not {set(FRAMEWORKS)!r} & set(sys.modules)\n"
    )
    run("-c", script)


@once
def test_timeout_and_sigterm(artifacts):
    """A request still waiting at --timeout-s gets a 503; at SIGTERM the server finishes the request it holds, then exits."""
    import httpx

    # A lone classification waits --max-wait-ms for company, longer than the timeout; generation never waits.
    with http_server(artifacts["char_rnn_shakespeare"], "--artifact", f"surnames={artifacts['rnn_surname_origin']}", "--timeout-s", "8", "--max-wait-ms", "60000") as (url, process):
        started = time.monotonic()
        late = httpx.post(f"{url}/v1/classify", json={"texts": ["Nakamura"]}, timeout=60)
        assert late.status_code == 503 and "8 s" in late.json()["error"] and time.monotonic() - started < 30
        assert httpx.post(f"{url}/v1/translate", json={"texts": ["seven"]}).status_code == 404  # no translator here
        answers = []
        request = threading.Thread(target=lambda: answers.append(httpx.post(f"{url}/v1/generate", json={"prompts": ["ROMEO:", "JULIET:"], "length": 2_000}, timeout=60)))
        request.start()
        time.sleep(0.5)  # the request is in flight: decoding 4,000 characters takes seconds
        process.send_signal(signal.SIGTERM)
        request.join()
        assert process.wait(timeout=60) == 0
        assert [len(result["generated"]) for result in answers[0].json()["results"]] == [2_000, 2_000]
        assert "Traceback" not in process.stderr.read()
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/health")


SCREENSHOTS = os.environ.get("ZOO_SCREENSHOTS")  # a folder: the page test saves what it saw there, to look at
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@once
def test_the_page_translates_and_spells_with_heatmaps_and_captions_and_answers_with_overlays(server, scene_files, spoken_files):
    from playwright.sync_api import sync_playwright

    image, _, _ = scene_files
    recording = next(iter(spoken_files.values()))
    spelled = server.post("/v1/spell", json={"audio": [base64.b64encode(recording.read_bytes()).decode()]}).json()["results"][0]
    expected = server.post("/v1/translate", json={"model": "numbers", "texts": ["four hundred and twenty-three"]}).json()["results"][0]
    caption = server.post("/v1/caption", files={"image": ("scene.png", image.read_bytes(), "image/png")}).json()["results"][0]
    answer = server.post("/v1/answer", json={"images": [base64.b64encode(image.read_bytes()).decode()], "questions": ["what is at the right?"]}).json()["results"][0]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            requests = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(str(server.base_url))
            page.select_option("#model", "numbers")
            page.fill("#text", "four hundred and twenty-three")
            page.press("#text", "Enter")
            page.wait_for_selector(".heatmap")
            assert page.inner_text("#output") == expected["translation"] == "quatre cent vingt-trois"
            cells = page.locator(".heatmap .cell")
            assert cells.count() == len(expected["target_tokens"]) * len(expected["source_tokens"])
            assert page.locator(".source-label").all_text_contents() == expected["source_tokens"]
            assert page.locator(".target-label").all_text_contents() == expected["target_tokens"]
            assert float(cells.first.get_attribute("fill-opacity")) == pytest.approx(expected["attention"][0][0], abs=1e-3)
            if SCREENSHOTS:
                page.screenshot(path=f"{SCREENSHOTS}/translation.png", full_page=True)
            page.select_option("#model", "scenes")
            page.set_input_files("#image", str(image))
            page.wait_for_selector(".overlay canvas")
            assert page.inner_text("#output") == caption["caption"]
            assert page.locator(".overlay figcaption").all_inner_texts() == caption["tokens"]
            if SCREENSHOTS:
                page.screenshot(path=f"{SCREENSHOTS}/caption.png", full_page=True)
            page.select_option("#model", "questions")
            page.set_input_files("#image", str(image))
            page.fill("#text", "what is at the right?")
            page.press("#text", "Enter")
            page.wait_for_selector(".overlay canvas")
            assert page.inner_text("#output") == answer["answer"]
            assert page.locator(".overlay figcaption").all_inner_texts() == answer["tokens"]
            page.select_option("#model", "speech")
            page.set_input_files("#image", str(recording))
            page.wait_for_selector(".heatmap")
            assert page.inner_text("#output") == spelled["spelling"]
            assert page.locator(".target-label").all_text_contents() == [{" ": "␣"}.get(token, token) for token in spelled["tokens"]]
            assert page.locator(".heatmap .cell").count() == len(spelled["tokens"]) * len(spelled["attention"][0])
            page.select_option("#model", "numbers")
            page.fill("#text", "twelvety")
            page.press("#text", "Enter")
            page.wait_for_selector("#status.error")
            assert "twelvety" in page.inner_text("#status")
            assert all(url.startswith(str(server.base_url)) for url in requests)  # nothing from a CDN
        finally:
            browser.close()
