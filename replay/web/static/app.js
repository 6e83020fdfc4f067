// The replay viewer: /replay/{game id}. It reads the game through the REST
// API (docs/replay.md) with the viewer's token, shows the state at any step,
// lists the events, and checks the hash chain and the revealed seed itself.
import { checkChain, checkSeed } from "./chain.js";
import { renderBoard } from "./boards.js";
import { h } from "./dom.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "playlog.replay.token";
const PAGE = 1000; // the most events one replay/events request returns

const gameID = decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop() || "");

const game = {
  token: "",
  head: 0,
  first: null,        // the answer at the head: rules, players, view, ended
  events: [],         // index seq-1
  steps: new Map(),   // at -> replay answer
  step: 0,            // the step shown
  wanted: 0,          // the step last asked for (answers for others are dropped)
  timer: null,        // playback
};

// --- the API ---

class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(path) {
  let resp;
  try {
    resp = await fetch(path, { headers: { Authorization: `Bearer ${game.token}` }, cache: "no-store" });
  } catch (err) {
    throw new APIError(0, "network_error", `cannot reach the server: ${err.message}`);
  }
  let body = null;
  try { body = await resp.json(); } catch { /* not JSON: reported below */ }
  if (!resp.ok) {
    const e = body && body.error; // {"error": {"code", "message"}}
    throw new APIError(resp.status, e && e.code ? e.code : `http_${resp.status}`, e && e.message ? e.message : resp.statusText);
  }
  if (body === null) throw new APIError(resp.status, "bad_response", "the answer is not JSON");
  return body;
}

const base = () => `/v1/games/${encodeURIComponent(gameID)}/replay`;

function replayAt(at) {
  if (!game.steps.has(at)) {
    const p = api(`${base()}?at=${at}`);
    game.steps.set(at, p);
    p.catch(() => game.steps.delete(at)); // a failed step is asked again next time
  }
  return game.steps.get(at);
}

// loadEvents reads events 1..head: the first page may already be under
// way (asked for with the head, before the head was known); the rest in
// pages of PAGE, in parallel. Events past head (the game moved on between
// the two requests) are left out.
async function loadEvents(head, firstPage) {
  const first = (await firstPage).events.filter((e) => e.seq <= head);
  const pages = [];
  for (let from = first.length + 1; from <= head; from += PAGE) {
    pages.push(api(`${base()}/events?from=${from}&to=${Math.min(head, from + PAGE - 1)}`));
  }
  return first.concat((await Promise.all(pages)).flatMap((p) => p.events));
}

// --- errors and the token ---

function showError(err) {
  const box = $("error");
  box.replaceChildren(
    h("b", { class: "code" }, err.code || "error"),
    err.status ? ` (HTTP ${err.status})` : "",
    ": ", h("span", { class: "message" }, err.message));
  box.dataset.code = err.code || "error";
  box.hidden = false;
  if (err.code === "authentication_failed") askToken();
}

function clearError() {
  $("error").hidden = true;
  $("error").replaceChildren();
  delete $("error").dataset.code;
}

// The token comes from the fragment (#token=...), which the browser never
// sends anywhere, then leaves it: it is kept in sessionStorage (this tab
// only) so that it is not in the history or a copied address.
function takeToken() {
  const frag = new URLSearchParams(location.hash.slice(1));
  if (frag.has("token")) {
    sessionStorage.setItem(TOKEN_KEY, frag.get("token"));
    frag.delete("token");
    const rest = frag.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  }
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

function askToken() {
  $("login").hidden = false;
  $("token").focus();
}

// user is the token's subject, for display only: the server checks the token.
function user(token) {
  try {
    const b64 = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)).sub || "";
  } catch { return ""; }
}

// --- showing a step ---

async function show(n) {
  if (!game.head) return;
  n = Math.max(1, Math.min(game.head, Math.trunc(Number(n)) || 1));
  game.wanted = n;
  $("at").value = n;
  $("slider").value = n;
  document.body.dataset.state = "loading";
  let resp;
  try {
    resp = await replayAt(n);
  } catch (err) {
    if (game.wanted === n) { stop(); showError(err); document.body.dataset.state = "error"; }
    return;
  }
  if (game.wanted !== n) return; // a later step was asked for meanwhile
  clearError();
  game.step = n;
  $("step").textContent = String(n);
  $("summary").replaceChildren(summary(resp));
  $("board").replaceChildren(renderBoard(resp.rules, {
    rules: resp.rules, players: resp.players, turn: resp.turn,
    state: resp.state && resp.state.state, events: game.events, at: n,
  }));
  $("board").dataset.rules = resp.rules;
  $("board").dataset.at = String(n);
  markCurrent(n);
  if (n < game.head) replayAt(n + 1).catch(() => {}); // the likely next step
  document.body.dataset.state = "ready";
}

function summary(resp) {
  const o = resp.outcome || {};
  let outcome = "in progress";
  if (o.ended) {
    outcome = o.draw ? "a draw" : (o.winners && o.winners.length ? `won by ${o.winners.join(", ")}` : "no winner");
    if (o.reason) outcome += ` (${o.reason})`;
  }
  const ev = resp.event;
  return h("dl", {},
    h("dt", {}, "Game"), h("dd", {}, `${resp.rules}: ${(resp.players || []).join(", ")}`),
    h("dt", {}, "View"), h("dd", { id: "view" }, resp.view),
    h("dt", {}, "Event"), h("dd", {}, ev && ev.type ? `${ev.type} by ${ev.actor}` : "hidden"),
    h("dt", {}, "To act"), h("dd", { id: "turn" }, (resp.turn || []).join(", ") || "nobody"),
    resp.forced ? [h("dt", {}, "Forced"), h("dd", {}, `${resp.forced.player} must ${resp.forced.action}`)] : null,
    h("dt", {}, "Outcome"), h("dd", { id: "outcome" }, outcome));
}

// --- the events ---

const MARKS = { ok: ["✓", "hash checked"], bad: ["✗", "hash does not match"], unchecked: ["·", "hidden or not checkable"] };

function renderEvents() {
  const rows = game.events.map((ev) => {
    const time = ev.recorded_at || "";
    return h("li", { class: `event vis-${ev.visibility || "stub"}`, "data-seq": ev.seq, id: `ev-${ev.seq}`, onclick: () => { stop(); show(ev.seq); } },
      h("span", { class: "mark" }, ""),
      h("span", { class: "seq" }, ev.seq),
      h("span", { class: "actor" }, ev.actor || ""),
      h("span", { class: "type" }, ev.type || "(hidden)"),
      h("time", { class: "time", datetime: time, title: time }, clock(time)),
      h("span", { class: "data", title: ev.data === undefined ? "" : JSON.stringify(ev.data) }, short(ev.data)));
  });
  $("events").replaceChildren(...rows);
}

// clock is an RFC 3339 time's time of day, to the microsecond.
function clock(iso) {
  const m = /T(\d\d:\d\d:\d\d)(?:\.(\d+))?/.exec(iso);
  return m ? `${m[1]}.${(m[2] || "").padEnd(6, "0")}` : iso;
}

function short(data) {
  if (data === undefined) return "";
  const s = JSON.stringify(data);
  return s.length > 72 ? `${s.slice(0, 70)}…` : s;
}

function markCurrent(n) {
  const old = $("events").querySelector(".current");
  if (old) { old.classList.remove("current"); old.removeAttribute("aria-current"); }
  const row = $(`ev-${n}`);
  if (row) {
    row.classList.add("current");
    row.setAttribute("aria-current", "step");
    row.scrollIntoView({ block: "nearest" });
  }
}

// --- the checks ---

function setCheck(id, status, detail) {
  const el = $(id);
  el.textContent = status;
  el.className = { verified: "ok", "not verified": "bad" }[status] || "na";
  $(id.replace("status", "detail")).textContent = detail;
}

async function verifyChain() {
  setCheck("chain-status", "checking", "");
  let r;
  try {
    r = await checkChain(game.first.game_id, game.events);
  } catch (err) {
    setCheck("chain-status", "not checkable", err.message);
    return;
  }
  for (const [seq, res] of r.results) {
    const row = $(`ev-${seq}`);
    if (!row) continue;
    row.classList.add(`chain-${res}`);
    const mark = row.querySelector(".mark");
    mark.textContent = MARKS[res][0];
    mark.title = MARKS[res][1];
  }
  const of = `${r.checked} of ${game.events.length} events checked`;
  if (r.status === "not verified") setCheck("chain-status", r.status, `broken at seq ${r.broken}: ${r.reason}`);
  else if (r.status === "verified") setCheck("chain-status", r.status, r.unchecked ? `${of}; the others are hidden from this view` : `${of}: the whole log up to step ${game.head}`);
  else setCheck("chain-status", r.status, "no event of this view carries its stored form");
}

// verifySeed checks the revealed seed against the creation's commitment:
// only an ended game's auditor view holds the seed.
async function verifySeed() {
  const first = game.first, env = first.state || {};
  if (!first.ended || first.view !== "auditor" || !env.seed) {
    setCheck("seed-status", "not checkable", first.ended ? "this view does not hold the seed" : "the seed is revealed when the game ends");
    return;
  }
  // The seed and commitment as the log has them: from the bytes the hash
  // chain covers, so that a checked chain vouches for them too.
  const logged = (e) => (e && e.stored ? JSON.parse(e.stored.data) : e && e.data) || {};
  try {
    const logCommitment = logged(game.events[0]).commitment;
    const logSeed = logged(game.events.find((e) => e && e.type === "seed_revealed")).seed;
    if (logCommitment && logCommitment !== env.commitment) {
      setCheck("seed-status", "not verified", "the state's commitment is not game_created's");
    } else if (logSeed && logSeed !== env.seed) {
      setCheck("seed-status", "not verified", "the state's seed is not seed_revealed's");
    } else if (await checkSeed(env.seed, env.commitment)) {
      setCheck("seed-status", "verified", "SHA-256 of the revealed seed is the commitment made at creation");
    } else {
      setCheck("seed-status", "not verified", "SHA-256 of the revealed seed is not the commitment made at creation");
    }
  } catch (err) {
    setCheck("seed-status", "not checkable", err.message);
  }
}

// --- playback ---

function play() {
  $("play").textContent = "Pause";
  tick(game.step >= game.head ? 1 : game.step + 1); // at the end: from the start again
}

function tick(next) {
  game.timer = setTimeout(async () => {
    await show(next);
    if (game.timer === null) return; // stopped meanwhile
    if (game.step >= game.head) stop();
    else tick(game.step + 1);
  }, 1000 / Number($("speed").value));
}

function stop() {
  clearTimeout(game.timer);
  game.timer = null;
  $("play").textContent = "Play";
}

function bindControls() {
  const go = (f) => () => { stop(); show(f()); };
  $("first").onclick = go(() => 1);
  $("prev").onclick = go(() => game.step - 1);
  $("next").onclick = go(() => game.step + 1);
  $("last").onclick = go(() => game.head);
  $("play").onclick = () => (game.timer === null ? play() : stop());
  $("at").onchange = go(() => $("at").value);
  $("slider").oninput = go(() => $("slider").value);
  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, select, textarea") || !game.head) return;
    if (e.key === " " && e.target.closest("button")) return; // the button's own click
    if (e.key === "ArrowLeft") go(() => game.step - 1)();
    else if (e.key === "ArrowRight") go(() => game.step + 1)();
    else if (e.key === " ") { e.preventDefault(); $("play").click(); }
  });
  $("login").onsubmit = (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    start();
  };
  // A new #token=... for this same page is only a fragment change: start over.
  window.addEventListener("hashchange", () => {
    if (new URLSearchParams(location.hash.slice(1)).has("token")) location.reload();
  });
  $("logout").onclick = () => {
    sessionStorage.removeItem(TOKEN_KEY);
    location.reload();
  };
}

// --- start ---

async function start() {
  document.body.dataset.state = "loading";
  game.token = takeToken();
  $("game").textContent = gameID;
  if (!game.token) { askToken(); document.body.dataset.state = "token"; return; }
  $("login").hidden = true;
  const who = user(game.token);
  $("who").textContent = who ? `viewing as ${who}` : "";
  clearError();
  try {
    // The state at the caller's head, and meanwhile the first page of
    // events (the API's default range: from 1, up to PAGE events).
    const firstPage = api(`${base()}/events?from=1`);
    firstPage.catch(() => {}); // its error, if any, is reported by loadEvents
    const first = await api(base());
    game.first = first;
    game.head = first.head;
    game.steps = new Map([[first.at, Promise.resolve(first)]]);
    $("head").textContent = String(first.head);
    for (const el of [$("at"), $("slider")]) el.max = first.head;
    $("viewer").hidden = false;
    game.events = await loadEvents(first.head, firstPage);
  } catch (err) {
    showError(err);
    document.body.dataset.state = "error";
    return;
  }
  renderEvents();
  await show(game.first.at);
  verifyChain();
  verifySeed();
}

bindControls();
start();
