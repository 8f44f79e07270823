"use strict";
// The page draws what the API returns, nothing else: a translation's alignment heatmap (SVG, source tokens
// across, target tokens down), a spelling's (the audio's positions across, characters down) and, per word of a
// caption or an answer, the image with that step's attention over it (canvas).
// It loads nothing but this server's files.
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const CELL = 28;
const PANEL = 168;
const VERBS = {translation: "Translate", classification: "Classify", language_model: "Generate", molecule_generation: "Sample", captioning: "Caption", question_answering: "Ask", speech_recognition: "Spell"};
const DROPS = {captioning: "image/*", question_answering: "image/*", speech_recognition: "audio/wav,.wav"};
let models = [];
let picked = null;  // the image a question answerer is asked about

function show(message, failed = false) {
  $("status").textContent = message;
  $("status").className = failed ? "error" : "";
}

function current() {
  return models.find((model) => model.name === $("model").value);
}

async function call(route, options) {
  const response = await fetch(route, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  const [result] = body.results;
  if (result.error) throw new Error(result.error);
  return result;
}

function choose() {
  const model = current();
  $("text-form").hidden = ["captioning", "speech_recognition"].includes(model.task);
  $("drop").hidden = !(model.task in DROPS);
  $("image").accept = DROPS[model.task] || "";
  $("drop-hint").textContent = model.task === "speech_recognition"
    ? "Drop a WAV recording here, or click to choose one (16 kHz or more)"
    : "Drop an image here, or click to choose one (light items on a dark background, as in Fashion-MNIST)";
  $("beam-option").hidden = !["translation", "captioning", "question_answering", "speech_recognition"].includes(model.task);
  $("send").textContent = VERBS[model.task];
  $("output").textContent = "";
  $("figure").replaceChildren();
  show("");
}

function svg(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

// The lecture's alignment figure: one cell per (target, source) token pair, darker for more attention.
function heatmap(result) {
  const sources = result.source_tokens, targets = result.target_tokens;
  const left = 10 + 7 * Math.max(...targets.map((token) => token.length));
  const top = 10 + 7 * Math.max(...sources.map((token) => token.length));
  const figure = svg("svg", {class: "heatmap", width: left + CELL * sources.length + 4, height: top + CELL * targets.length + 4});
  sources.forEach((token, column) => {
    const x = left + CELL * column + CELL / 2 + 4;
    figure.append(svg("text", {class: "source-label", x, y: top - 6, transform: `rotate(-90 ${x} ${top - 6})`}, token));
  });
  targets.forEach((token, row) => {
    figure.append(svg("text", {class: "target-label", x: left - 6, y: top + CELL * row + CELL / 2 + 4, "text-anchor": "end"}, token));
    result.attention[row].forEach((weight, column) => {
      const cell = svg("rect", {class: "cell", x: left + CELL * column, y: top + CELL * row, width: CELL - 1, height: CELL - 1, fill: "#b00000", "fill-opacity": weight.toFixed(3)});
      cell.append(svg("title", {}, `${token} <- ${sources[column]}: ${weight.toFixed(3)}`));
      figure.append(cell);
    });
  });
  return figure;
}

// One panel per generated word: the image as the model sees it (grey), that step's attention grid in red over it.
// A wide grid (a text line) gets a wide panel of about the same area, as the Python overlay draws it.
function overlays(bitmap, result) {
  const box = document.createElement("div");
  box.className = "overlays";
  result.tokens.forEach((token, step) => {
    const grid = result.attention[step], rows = grid.length, columns = grid[0].length;
    const peak = Math.max(...grid.flat(), 1e-12);
    const width = Math.min(6 * PANEL, Math.round(PANEL * Math.sqrt(columns / rows))), height = Math.round(width * rows / columns);
    const canvas = Object.assign(document.createElement("canvas"), {width, height});
    const context = canvas.getContext("2d");
    context.filter = "grayscale(100%)";
    context.drawImage(bitmap, 0, 0, width, height);
    context.filter = "none";
    grid.forEach((line, row) => line.forEach((weight, column) => {
      context.fillStyle = `rgba(255, 0, 0, ${(0.6 * weight / peak).toFixed(3)})`;
      context.fillRect(column * width / columns, row * height / rows, width / columns, height / rows);
    }));
    const figure = document.createElement("figure");
    figure.className = "overlay";
    const label = document.createElement("figcaption");
    label.textContent = token;
    figure.append(canvas, label);
    box.append(figure);
  });
  return box;
}

function classes(result) {
  const list = document.createElement("ol");
  for (const {label, probability} of result.classes) {
    const item = document.createElement("li");
    const bar = Object.assign(document.createElement("div"), {className: "bar"});
    bar.style.width = `${(100 * probability).toFixed(1)}%`;
    item.append(`${label} ${probability.toFixed(3)}`, bar);
    list.append(item);
  }
  return list;
}

async function sendText(event) {
  event.preventDefault();
  const model = current(), text = $("text").value;
  if (model.task === "question_answering") return ask(model, text);
  const body = {model: model.name};
  if (model.task === "language_model" || model.task === "molecule_generation") body.prompts = [text];
  else body.texts = [text];
  if (model.task === "translation") body.beam = Number($("beam").value);
  $("output").textContent = "";
  $("figure").replaceChildren();
  show("…");
  try {
    const result = await call(model.route, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    show("");
    if (model.task === "translation") {
      $("output").textContent = result.translation;
      if (result.attention) $("figure").append(heatmap(result));
      else show(`${model.name} has no attention to draw: its decoder reads one fixed context`);
    } else if (model.task === "classification") $("figure").append(classes(result));
    else if (model.task === "molecule_generation") {
      $("output").textContent = result.molecules.map((m) => `${m.smiles}  ${m.valid ? "valid" : "invalid"}`).join("\n");
    } else $("output").textContent = result.prompt + result.generated;
  } catch (error) {
    show(error.message, true);
  }
}

function dataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

// A question about the image picked last: the answer, and per word of it the attention over the image.
async function ask(model, question) {
  if (!picked) return show("choose an image to ask about first", true);
  $("output").textContent = "";
  $("figure").replaceChildren();
  show("…");
  try {
    const body = {model: model.name, images: [await dataUrl(picked)], questions: [question], beam: Number($("beam").value)};
    const request = {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)};
    const [result, bitmap] = await Promise.all([call(model.route, request), createImageBitmap(picked)]);
    show("");
    $("output").textContent = result.answer;
    $("figure").append(overlays(bitmap, result));
  } catch (error) {
    show(error.message, true);
  }
}

// A recording spelled: the spelling, and the alignment of its characters with the audio's positions.
async function spell(model, file) {
  $("output").textContent = "";
  $("figure").replaceChildren();
  show("…");
  try {
    const body = {model: model.name, audio: [await dataUrl(file)], beam: Number($("beam").value)};
    const result = await call(model.route, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    show("");
    $("output").textContent = result.spelling;
    const positions = result.attention[0].length, seconds = 0.01 * Math.ceil(result.frames / positions);
    const times = Array.from({length: positions}, (_, position) => `${(position * seconds).toFixed(2)} s`);
    $("figure").append(heatmap({source_tokens: times, target_tokens: result.tokens.map((token) => token === " " ? "␣" : token), attention: result.attention}));
  } catch (error) {
    show(error.message, true);
  }
}

async function sendImage(file) {
  const model = current();
  if (model.task === "speech_recognition") return spell(model, file);
  if (model.task === "question_answering") {
    picked = file;
    return $("text").value ? ask(model, $("text").value) : show(`${file.name}: now ask a question about it`);
  }
  const form = new FormData();
  form.append("image", file);
  form.append("beam", $("beam").value);
  form.append("model", model.name);
  $("output").textContent = "";
  $("figure").replaceChildren();
  show("…");
  try {
    const [result, bitmap] = await Promise.all([call(model.route, {method: "POST", body: form}), createImageBitmap(file)]);
    show("");
    $("output").textContent = result.caption;
    $("figure").append(overlays(bitmap, result));
  } catch (error) {
    show(error.message, true);
  }
}

async function start() {
  try {
    const response = await fetch("/v1/models");
    models = (await response.json()).models;
  } catch (error) {
    show(`cannot reach the server: ${error.message}`, true);
    return;
  }
  for (const model of models) $("model").append(new Option(`${model.name} (${model.task.replace("_", " ")})`, model.name));
  $("model").addEventListener("change", choose);
  $("text-form").addEventListener("submit", sendText);
  $("image").addEventListener("change", () => {
    const file = $("image").files[0];
    $("image").value = "";  // so that choosing the same file again is a new choice
    if (file) sendImage(file);
  });
  const drop = $("drop");
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer.files[0]) sendImage(event.dataTransfer.files[0]);
  });
  choose();
}

start();
