"use strict";
// The lab's page: every panel is a form whose answers come from /api (served by this app).

const $ = (selector, root = document) => root.querySelector(selector);
const TERMINAL = ["done", "failed", "cancelled"];
let status = null;

async function api(path, options = {}) {
  const init = { method: options.method || "GET", headers: {} };
  if (options.json !== undefined) {
    init.method = options.method || "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.json);
  } else if (options.form !== undefined) {
    init.method = "POST";
    init.body = options.form;
  }
  const response = await fetch(path, init);
  const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

function say(panel, text, isError = false) {
  const line = $(".status", panel);
  line.textContent = text;
  line.classList.toggle("error", isError);
}

function fillList(list, items, render) {
  list.replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    render(li, item);
    return li;
  }));
}

function showTop5(list, predictions) {
  fillList(list, predictions, (li, p) => {
    li.textContent = `${p.name} `;
    const share = document.createElement("span");
    share.textContent = `${(100 * p.probability).toFixed(1)}%`;
    li.append(share);
  });
}

function figure(src, caption) {
  const box = document.createElement("figure");
  const img = document.createElement("img");
  img.src = src;
  img.alt = caption;
  const text = document.createElement("figcaption");
  text.textContent = caption;
  box.append(img, text);
  return box;
}

function options(select, values, labels = values) {
  select.replaceChildren(...values.map((value, i) => new Option(labels[i], value)));
}

// A job's snapshots as they change, from the server's event stream (polling if it breaks).
function watchJob(job, panel, onUpdate) {
  const bar = $("progress", panel);
  const cancel = $(".cancel", panel);
  bar.hidden = false;
  cancel.hidden = false;
  cancel.onclick = () => api(`/api/jobs/${job.id}`, { method: "DELETE" }).catch(() => {});
  return new Promise((resolve) => {
    const finish = (state) => {
      bar.hidden = true;
      cancel.hidden = true;
      resolve(state);
    };
    const update = (state) => {
      bar.max = state.total;
      bar.value = state.done;
      onUpdate(state);
      if (TERMINAL.includes(state.status)) { finish(state); return true; }
      return false;
    };
    const source = new EventSource(`/api/jobs/${job.id}/events`);
    source.onmessage = (event) => { if (update(JSON.parse(event.data))) source.close(); };
    source.onerror = () => {
      source.close();
      const poll = async () => {
        try {
          if (!update(await api(`/api/jobs/${job.id}`))) setTimeout(poll, 500);
        } catch (error) { say(panel, error.message, true); finish({ status: "failed" }); }
      };
      poll();
    };
  });
}

function reportEnd(panel, state, doneText) {
  if (state.status === "done") say(panel, doneText);
  else if (state.status === "cancelled") say(panel, "Cancelled.");
  else say(panel, state.error || state.message, true);
}

// The photo a form names: its uploaded file (sent once) or a sample photo.
async function chosenImage(form) {
  const file = form.elements.file.files[0];
  if (!file) return `sample:${form.elements.sample.value}`;
  if (form.dataset.file === `${file.name}:${file.size}:${file.lastModified}`) {
    return form.dataset.image;
  }
  const data = new FormData();
  data.append("file", file);
  const { image } = await api("/api/images", { form: data });
  form.dataset.file = `${file.name}:${file.size}:${file.lastModified}`;
  form.dataset.image = image;
  return image;
}

async function explain(event) {
  event.preventDefault();
  const panel = $("#explain");
  const form = event.target;
  const gallery = $("#explain-maps");
  try {
    say(panel, "Uploading and predicting...");
    const image = await chosenImage(form);
    const model = form.elements.model.value;
    const quick = await api("/api/saliency", { json: { model, image } });
    $("#explain-input").src = quick.input;
    showTop5($("#explain-top5"), quick.top5);
    const maps = { ...quick.maps };
    const draw = () => gallery.replaceChildren(
      ...Object.entries(maps).map(([method, src]) => figure(src, `${method} (${quick.target})`)));
    draw();
    say(panel, `Saliency of "${quick.target}"; computing the other methods...`);
    const job = await api("/api/jobs/saliency", { json: { model, image } });
    const end = await watchJob(job, panel, (state) => {
      Object.assign(maps, state.result.maps || {});
      draw();
      if (!TERMINAL.includes(state.status)) say(panel, state.message);
    });
    reportEnd(panel, end, `Every method shows the saliency of "${quick.target}".`);
  } catch (error) { say(panel, error.message, true); }
}

async function fool(event) {
  event.preventDefault();
  const panel = $("#fool");
  const form = event.target;
  try {
    say(panel, "Starting the attack...");
    const image = await chosenImage(form);
    const job = await api("/api/jobs/fool", { json: {
      model: form.elements.model.value, image, target: form.elements.target.value,
      max_iterations: Number(form.elements.max_iterations.value) } });
    const end = await watchJob(job, panel, (state) => {
      if (!TERMINAL.includes(state.status)) say(panel, state.message);
    });
    const r = end.result;
    if (end.status === "done") {
      $("#fool-images").replaceChildren(figure(r.original, "original"),
        figure(r.fooling, "fooling image"), figure(r.difference, "difference x10"));
      showTop5($("#fool-before"), r.before);
      showTop5($("#fool-after"), r.after);
      say(panel, r.success
        ? `Fooled: the model now says "${r.target}" after ${r.iterations} steps ` +
          `(largest pixel change ${r.max_pixel_change}/255).`
        : `Not fooled after ${r.iterations} steps; allow more steps or pick a closer target.`,
        !r.success);
    } else reportEnd(panel, end, "");
  } catch (error) { say(panel, error.message, true); }
}

function sceneGrid() {
  const grid = $("#scene-grid");
  const values = ["", "-1", ...status.garment_classes.map((_, i) => String(i))];
  const labels = ["empty", "any garment", ...status.garment_classes];
  grid.replaceChildren(...Array.from({ length: 9 }, (_, i) => {
    const select = document.createElement("select");
    select.name = `cell${i}`;
    select.setAttribute("aria-label", `cell ${i + 1}`);
    options(select, values, labels);
    return select;
  }));
  [0, 8].forEach((i) => { grid.children[i].value = "-1"; });
}

async function caption(random) {
  const panel = $("#scene");
  const form = $("#scene-form");
  const cells = Array.from($("#scene-grid").children,
    (s) => (s.value === "" ? null : Number(s.value)));
  try {
    say(panel, "Composing and captioning...");
    const seed = Number(form.elements.seed.value);
    const answer = await api("/api/scene", { json: {
      cells: random ? null : cells, seed, beam_size: Number(form.elements.beam_size.value) } });
    $("#scene-image").src = answer.scene;
    answer.cells.forEach((cell, i) => {
      $("#scene-grid").children[i].value = cell === null ? "" : String(cell.class);
    });
    if (random) form.elements.seed.value = seed + 1;
    fillList($("#scene-captions"), answer.captions, (li, c) => {
      const name = document.createElement("b");
      name.textContent = c.model ? `${c.captioner} (${c.model}): ` : `${c.captioner}: `;
      li.append(name, c.caption === null ? `no caption: ${c.problem}` : c.caption);
      if (c.grounding.length) {
        const words = document.createElement("div");
        words.className = "gallery grounding";
        words.append(...c.grounding.map((p) => figure(p.image, p.word)));
        li.append(words);
      }
    });
    say(panel, answer.missing || `${answer.captions.length} captioner(s) answered.`,
      Boolean(answer.missing));
  } catch (error) { say(panel, error.message, true); }
}

async function generate(event) {
  event.preventDefault();
  const panel = $("#generate");
  const form = event.target;
  const slider = $("#gan-slider");
  try {
    say(panel, "Generating...");
    const answer = await api("/api/gan/samples", { json: {
      gan: form.elements.gan.value, seed: Number(form.elements.seed.value) } });
    $("#gan-samples").src = answer.samples;
    slider.max = answer.frames.length - 1;
    slider.value = 0;
    slider.disabled = false;
    slider.oninput = () => { $("#gan-frame").src = answer.frames[Number(slider.value)]; };
    slider.oninput();
    say(panel, `${answer.title}: slide between two samples.`);
  } catch (error) { say(panel, error.message, true); }
}

async function visualize(event) {
  event.preventDefault();
  const panel = $("#class");
  const form = event.target;
  try {
    say(panel, "Starting...");
    const job = await api("/api/jobs/class", { json: {
      model: form.elements.model.value, target: form.elements.target.value,
      iterations: Number(form.elements.iterations.value) } });
    const end = await watchJob(job, panel, (state) => {
      if (state.result.image) $("#class-image").src = state.result.image;
      if (!TERMINAL.includes(state.status)) say(panel, state.message);
    });
    if (end.status === "done") showTop5($("#class-top5"), end.result.after);
    reportEnd(panel, end, `An image the model scores as "${end.result.target}".`);
  } catch (error) { say(panel, error.message, true); }
}

async function loadClassNames(model) {
  const { names } = await api(`/api/classes?model=${encodeURIComponent(model)}`);
  $("#class-names").replaceChildren(...names.map((name) => new Option(name)));
}

function showTab(name) {
  document.querySelectorAll("#tabs button").forEach((b) => {
    b.setAttribute("aria-selected", String(b.dataset.tab === name));
  });
  document.querySelectorAll(".panel").forEach((p) => { p.hidden = p.id !== name; });
}

async function start() {
  document.querySelectorAll("#tabs button").forEach((b) => {
    b.onclick = () => showTab(b.dataset.tab);
  });
  status = await api("/api/status");
  document.querySelectorAll(".model-select").forEach((s) => options(s, status.models));
  document.querySelectorAll(".sample-select").forEach((s) => options(s, status.samples));
  document.querySelectorAll(".model-select").forEach((s) => {
    s.onchange = () => loadClassNames(s.value).catch((e) => say(s.form.parentNode, e.message, true));
  });
  sceneGrid();
  options($("#gan-select"), status.gans);
  if (status.missing.gan) say($("#generate"), status.missing.gan, true);
  if (status.missing.caption) say($("#scene"), status.missing.caption, true);
  $("#explain-form").onsubmit = explain;
  $("#fool-form").onsubmit = fool;
  $("#scene-form").onsubmit = (e) => { e.preventDefault(); caption(false); };
  $("#scene-random").onclick = () => caption(true);
  $("#generate-form").onsubmit = generate;
  $("#class-form").onsubmit = visualize;
  $("#footer").textContent = `vislab ${status.version} · runs from ${status.runs_dir} · ` +
    `${status.limits.workers} workers, ${status.limits.queue} may wait`;
  await loadClassNames(status.models[0]);
  document.body.dataset.ready = "true";
}

start().catch((error) => {
  document.body.prepend(Object.assign(document.createElement("p"),
    { className: "status error", textContent: `The lab did not start: ${error.message}` }));
});
