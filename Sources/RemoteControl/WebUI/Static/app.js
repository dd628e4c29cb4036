// BitFountain web UI: plain JavaScript, no build step. It talks to the daemon's own API:
// the qBittorrent WebAPI v2 (/api/v2/...) for torrents, and /api/bf/... for what that API lacks
// (publish, DHT, peers with their bf_fountain flag, settings).
"use strict";

const state = {
  rid: 0,
  torrents: new Map(),   // hash -> fields, merged from sync/maindata
  rows: new Map(),       // hash -> its <tr>, made when the list first shows it
  layout: 0,             // the newest list layout; an older one still adding rows stops
  server: {},
  page: "torrents",
  detailHash: null,
  removeHash: null,
  pollTimer: null,
  detailTimer: null,
};

const $ = (id) => document.getElementById(id);

// ---------- the API ----------

// State-changing requests carry the CSRF token the daemon hands out in the bf_csrf cookie
// (double-submit: a page on another origin can neither read the cookie nor set the header).
function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)bf_csrf=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

class HTTPError extends Error {
  constructor(status, text) { super(text || `HTTP ${status}`); this.status = status; }
}

async function api(path, { form = null, method = form ? "POST" : "GET" } = {}) {
  const headers = {};
  let body = null;
  if (form) {
    body = form instanceof FormData ? form : new URLSearchParams(form);
    headers["X-CSRF-Token"] = csrfToken();
  }
  const response = await fetch(path, { method, body, headers, credentials: "same-origin" });
  const text = await response.text();
  if ((response.status === 401 || response.status === 403) && !path.startsWith("/api/v2/auth/")
      && /^(Forbidden|authentication required)/.test(text)) {
    showLogin();
    throw new HTTPError(403, "not logged in");
  }
  if (!response.ok) throw new HTTPError(response.status, text);
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? JSON.parse(text) : text;
}

function showError(error) {
  const box = $("error");
  if (!error) { box.hidden = true; return; }
  box.textContent = String(error.message || error);
  box.hidden = false;
}

// ---------- formatting ----------

function bytes(n) {
  if (!(n > 0)) return "0 B";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
const rate = (n) => (n > 0 ? `${bytes(n)}/s` : "–");
function eta(seconds) {
  if (seconds == null || seconds < 0 || seconds >= 8640000) return "∞";
  if (seconds === 0) return "–";
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}
const percent = (p) => `${(Math.floor((p || 0) * 1000) / 10).toFixed(1)} %`;
const stopped = (t) => t.state === "stoppedUP" || t.state === "stoppedDL";

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) node.append(child);
  return node;
}

// ---------- navigation ----------

function route() {
  const hash = location.hash.slice(1) || "torrents";
  const [page, arg] = hash.split("/");
  state.page = page === "torrent" ? "detail" : page;
  state.detailHash = page === "torrent" ? arg : null;
  for (const section of document.querySelectorAll("section.page")) {
    section.hidden = section.id !== `${state.page}-page`;
  }
  for (const link of document.querySelectorAll("nav a")) {
    link.classList.toggle("current", link.dataset.page === state.page);
  }
  clearTimeout(state.detailTimer);
  if (state.page === "detail") refreshDetail();
  if (state.page === "dht") refreshDHT();
  if (state.page === "publish") loadRoots();
  if (state.page === "settings") loadSettings();
}

// ---------- login ----------

function showLogin() {
  $("login-page").hidden = false;
  document.querySelector("main").hidden = true;
}

async function logIn(event) {
  event.preventDefault();
  const data = new FormData(event.target);
  try {
    const reply = await api("/api/v2/auth/login", { form: { username: data.get("username"), password: data.get("password") } });
    if (reply !== "Ok.") throw new Error("wrong user or password");
    $("login-page").hidden = true;
    document.querySelector("main").hidden = false;
    showError(null);
    state.rid = 0;
    poll();
  } catch (error) { showError(error); }
}

// ---------- the torrent list ----------

async function poll() {
  clearTimeout(state.pollTimer);
  try {
    const data = await api(`/api/v2/sync/maindata?rid=${state.rid}`);
    applyMainData(data);
    showError(null);
  } catch (error) {
    if (error.status !== 403) showError(error);
    if (error.status === 403) return;
  }
  state.pollTimer = setTimeout(poll, 1000);
}

function applyMainData(data) {
  let changed;
  if (data.full_update) {
    state.torrents = new Map(Object.entries(data.torrents || {}));
    state.server = data.server_state || {};
    changed = [...state.torrents.keys()];
  } else {
    changed = Object.keys(data.torrents || {});
    for (const [hash, fields] of Object.entries(data.torrents || {})) {
      state.torrents.set(hash, Object.assign(state.torrents.get(hash) || {}, fields));
    }
    Object.assign(state.server, data.server_state || {});
  }
  for (const hash of data.torrents_removed || []) state.torrents.delete(hash);
  state.rid = data.rid;
  renderTorrents(changed, !!data.full_update || (data.torrents_removed || []).length > 0);
  renderTotals();
}

function renderTotals() {
  const s = state.server;
  $("totals").textContent = `↓ ${rate(s.dl_info_speed)}  ↑ ${rate(s.up_info_speed)}  · DHT ${s.dht_nodes ?? 0} nodes`;
}

// The rows' buttons are handled by one listener on the table body (installed at start),
// not two per row: ten thousand rows were twenty thousand closures.
function torrentRow(hash) {
  const row = el("tr", { className: "torrent" });
  row.dataset.hash = hash;
  const link = el("a", { href: `#torrent/${hash}` });
  const bar = el("div", { className: "bar" }, el("span"), el("b", { className: "progress" }));
  const toggle = el("button", { className: "toggle", type: "button" });
  const remove = el("button", { className: "remove", type: "button", textContent: "Remove" });
  row.append(
    el("td", { className: "name" }, link), el("td", { className: "size" }), el("td", {}, bar),
    el("td", { className: "state" }), el("td", { className: "down" }), el("td", { className: "up" }),
    el("td", { className: "peers" }), el("td", { className: "eta" }), el("td", {}, toggle, " ", remove));
  return row;
}

function updateRow(row, t) {
  const cells = row.children;
  cells[0].firstChild.textContent = t.name || row.dataset.hash;
  cells[1].textContent = bytes(t.size || t.total_size);
  cells[2].querySelector("span").style.width = `${(t.progress || 0) * 100}%`;
  cells[2].querySelector("b").textContent = percent(t.progress);
  cells[3].textContent = t.state;
  cells[4].textContent = rate(t.dlspeed);
  cells[5].textContent = rate(t.upspeed);
  cells[6].textContent = `${t.num_seeds ?? 0} / ${t.num_leechs ?? 0}`;
  cells[7].textContent = t.progress >= 1 ? "done" : eta(t.eta);
  cells[8].querySelector(".toggle").textContent = stopped(t) ? "Resume" : "Pause";
  row.classList.toggle("complete", t.progress >= 1);
}

function renderTorrents(changedHashes, structureChanged) {
  for (const hash of changedHashes) {
    const t = state.torrents.get(hash);
    const row = state.rows.get(hash);
    if (!t) continue;
    if (row) updateRow(row, t); else structureChanged = true;
  }
  if (structureChanged) layOutRows($("torrent-rows"));
  $("no-torrents").hidden = state.torrents.size > 0;
  if (state.page === "detail") renderDetailSummary();
}

// How many rows the list shows at once, and how many it adds per turn after that.
const FIRST_ROWS = 100, MORE_ROWS = 500;

// Puts the rows in order, newest first (as a person looks for what they just added). A row is
// made when its torrent first comes into the list: the first screenful at once, the rest a
// chunk per turn of the event loop, so that a daemon with ten thousand torrents paints its list
// without first building every row (which held the first paint back for seconds).
function layOutRows(body) {
  const order = [...state.torrents.entries()]
    .sort((a, b) => (b[1].added_on || 0) - (a[1].added_on || 0) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([hash]) => hash);
  for (const hash of state.rows.keys()) if (!state.torrents.has(hash)) state.rows.delete(hash);
  const rowOf = (hash) => {
    let row = state.rows.get(hash);
    if (!row) {
      row = torrentRow(hash);
      updateRow(row, state.torrents.get(hash));
      state.rows.set(hash, row);
    }
    return row;
  };
  const layout = ++state.layout;
  body.replaceChildren(...order.slice(0, FIRST_ROWS).map(rowOf));
  let next = FIRST_ROWS;
  const more = () => {
    if (layout !== state.layout || next >= order.length) return;
    body.append(...order.slice(next, next + MORE_ROWS).map(rowOf));
    next += MORE_ROWS;
    setTimeout(more, 0);
  };
  if (next < order.length) setTimeout(more, 0);
}

function onRowClick(event) {
  const button = event.target.closest("button");
  const hash = button?.closest("tr.torrent")?.dataset.hash;
  if (!hash) return;
  if (button.classList.contains("toggle")) toggleTorrent(hash);
  else if (button.classList.contains("remove")) askRemove(hash);
}

async function addTorrents(event) {
  event.preventDefault();
  const form = new FormData();
  const urls = $("magnet-input").value.trim();
  const files = $("torrent-file").files;
  if (!urls && files.length === 0) return;
  if (urls) form.append("urls", urls);
  for (const file of files) form.append("torrents", file, file.name);
  if ($("add-paused").checked) form.append("stopped", "true");
  try {
    await api("/api/v2/torrents/add", { form });
    $("magnet-input").value = "";
    $("torrent-file").value = "";
    showError(null);
    poll();
  } catch (error) { showError(error); }
}

async function toggleTorrent(hash) {
  const t = state.torrents.get(hash);
  const action = t && stopped(t) ? "start" : "stop";
  try { await api(`/api/v2/torrents/${action}`, { form: { hashes: hash } }); poll(); } catch (error) { showError(error); }
}

function askRemove(hash) {
  state.removeHash = hash;
  $("remove-name").textContent = state.torrents.get(hash)?.name || hash;
  $("remove-delete-files").checked = false;
  $("remove-dialog").showModal();
}

async function confirmRemove() {
  if ($("remove-dialog").returnValue !== "remove" || !state.removeHash) return;
  const form = { hashes: state.removeHash, deleteFiles: $("remove-delete-files").checked ? "true" : "false" };
  state.removeHash = null;
  try {
    await api("/api/v2/torrents/delete", { form });
    if (state.page === "detail" && state.detailHash === form.hashes) location.hash = "#torrents";
    poll();
  } catch (error) { showError(error); }
}

// ---------- the detail view ----------

function renderDetailSummary() {
  const t = state.torrents.get(state.detailHash);
  if (!t) return;
  $("detail-name").textContent = t.name;
  const rows = [
    ["Hash", state.detailHash], ["State", t.state], ["Progress", percent(t.progress)],
    ["Size", bytes(t.size)], ["Down / up", `${rate(t.dlspeed)} / ${rate(t.upspeed)}`],
    ["Downloaded / uploaded", `${bytes(t.downloaded)} / ${bytes(t.uploaded)}`], ["ETA", t.progress >= 1 ? "done" : eta(t.eta)],
    ["Saved in", t.save_path], ["Category", t.category || "–"], ["Tags", t.tags || "–"], ["Magnet", t.magnet_uri],
  ];
  $("detail-summary").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", { textContent: k }), el("dd", { textContent: v ?? "" })]));
}

async function refreshDetail() {
  const hash = state.detailHash;
  if (!hash || state.page !== "detail") return;
  renderDetailSummary();
  try {
    const [files, pieces, peers] = await Promise.all([
      api(`/api/v2/torrents/files?hash=${hash}`),
      api(`/api/v2/torrents/pieceStates?hash=${hash}`),
      api(`/api/bf/peers?hash=${hash}`),
    ]);
    $("detail-files").replaceChildren(...files.map((f) => el("tr", {},
      el("td", { className: "name", textContent: f.name }), el("td", { textContent: bytes(f.size) }),
      el("td", { textContent: percent(f.progress) }))));
    drawPieces(pieces);
    $("detail-peers").replaceChildren(...peers.map((p) => el("tr", { className: "peer" },
      el("td", { textContent: p.address }), el("td", { textContent: p.client || "?" }),
      el("td", { textContent: rate(p.dlspeed) }), el("td", { textContent: rate(p.upspeed) }),
      el("td", { textContent: percent(p.progress) }),
      el("td", { className: p.fountain ? "yes" : "", textContent: p.fountain ? "yes" : "no" }))));
  } catch (error) { if (error.status === 404) { location.hash = "#torrents"; return; } showError(error); }
  state.detailTimer = setTimeout(refreshDetail, 2000);
}

// One column per piece when they fit, otherwise each column summarises a run of pieces by its
// least-complete member, so a missing piece is never hidden.
function drawPieces(pieces) {
  const canvas = $("piece-map");
  const width = canvas.clientWidth || 800;
  canvas.width = width;
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, width, canvas.height);
  if (!pieces.length) return;
  const colours = ["#d0d7de", "#d29922", "#2da44e"];
  const per = pieces.length / width;
  for (let x = 0; x < width; x++) {
    const from = Math.floor(x * per), to = Math.max(from + 1, Math.floor((x + 1) * per));
    if (from >= pieces.length) break;
    let worst = 2;
    for (let i = from; i < to && i < pieces.length; i++) worst = Math.min(worst, pieces[i]);
    ctx.fillStyle = colours[worst] || colours[0];
    ctx.fillRect(x, 0, 1, canvas.height);
  }
}

// ---------- publish ----------

let roots = [];

async function loadRoots() {
  try {
    roots = (await api("/api/bf/roots")).roots;
    $("publish-root").replaceChildren(...roots.map((root, i) => el("option", { value: String(i), textContent: root })));
    browse("");
  } catch (error) { showError(error); }
}

async function browse(path) {
  const root = $("publish-root").value || "0";
  try {
    const listing = await api(`/api/bf/browse?root=${root}&path=${encodeURIComponent(path)}`);
    const items = [];
    if (path) {
      const up = el("a", { textContent: "../" });
      up.addEventListener("click", () => { const parent = path.split("/").slice(0, -1).join("/"); $("publish-path").value = parent; browse(parent); });
      items.push(el("li", {}, up));
    }
    for (const entry of listing.entries) {
      const full = path ? `${path}/${entry.name}` : entry.name;
      const link = el("a", { textContent: entry.directory ? `${entry.name}/` : entry.name });
      link.addEventListener("click", () => { $("publish-path").value = full; if (entry.directory) browse(full); });
      items.push(el("li", {}, link));
    }
    $("publish-browse").replaceChildren(...items);
  } catch (error) { showError(error); }
}

async function publish(event) {
  event.preventDefault();
  const button = $("publish-button");
  button.disabled = true;
  button.textContent = "Hashing…";
  try {
    const result = await api("/api/bf/publish", { form: { root: $("publish-root").value || "0", path: $("publish-path").value } });
    $("publish-name").textContent = result.name;
    $("publish-magnet").value = result.magnet;
    $("publish-result").hidden = false;
    showError(null);
    poll();
  } catch (error) { showError(error); }
  button.disabled = false;
  button.textContent = "Publish";
}

async function copyMagnet() {
  const input = $("publish-magnet");
  input.select();
  try { await navigator.clipboard.writeText(input.value); } catch { document.execCommand("copy"); }
  $("publish-copy").textContent = "Copied";
  setTimeout(() => { $("publish-copy").textContent = "Copy"; }, 1500);
}

// ---------- DHT ----------

async function refreshDHT() {
  if (state.page !== "dht") return;
  const summary = (id, rows) =>
    $(id).replaceChildren(...rows.flatMap(([k, v]) => [el("dt", { textContent: k }), el("dd", { textContent: String(v ?? "") })]));
  try {
    const dht = await api("/api/bf/dht");
    if (!dht.enabled) {
      summary("dht-summary", [["DHT", "off"]]);
    } else {
      summary("dht-summary", [
        ["Node id", dht.nodeID], ["Listening on", dht.port ? `UDP ${dht.port}` : "–"],
        ["Nodes in the routing table", dht.nodes],
        ["Verified (signed-ID) nodes", `${dht.verifiedNodes} (${((dht.verifiedShare || 0) * 100).toFixed(1)} %)`],
        ["Infohashes / peers stored for others", `${dht.storedInfoHashes} / ${dht.storedPeers}`],
      ]);
      const l = dht.lookups || {};
      summary("dht-lookups", [
        ["Queries sent", l.queriesSent], ["Responses received", l.responsesReceived], ["Timeouts", l.timeouts],
        ["Queries answered", `${l.responsesSent} of ${l.queriesReceived}`], ["Peers announced to us", l.peersAnnouncedToUs],
      ]);
    }
  } catch (error) { showError(error); }
  state.detailTimer = setTimeout(refreshDHT, 3000);
}

// ---------- settings ----------

async function loadSettings() {
  try {
    const s = await api("/api/bf/settings");
    $("setting-dl").value = Math.round((s.downloadLimit || 0) / 1024);
    $("setting-ul").value = Math.round((s.uploadLimit || 0) / 1024);
  } catch (error) { showError(error); }
}

async function saveSettings(event) {
  event.preventDefault();
  try {
    await api("/api/bf/settings", { form: {
      downloadLimit: String(Number($("setting-dl").value || 0) * 1024),
      uploadLimit: String(Number($("setting-ul").value || 0) * 1024),
    } });
    $("settings-saved").hidden = false;
    setTimeout(() => { $("settings-saved").hidden = true; }, 1500);
  } catch (error) { showError(error); }
}

// ---------- start ----------

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", logIn);
  $("add-form").addEventListener("submit", addTorrents);
  $("torrent-rows").addEventListener("click", onRowClick);
  $("remove-dialog").addEventListener("close", confirmRemove);
  $("publish-form").addEventListener("submit", publish);
  $("publish-root").addEventListener("change", () => browse(""));
  $("publish-copy").addEventListener("click", copyMagnet);
  $("settings-form").addEventListener("submit", saveSettings);
  window.addEventListener("hashchange", route);
  route();
  poll();
});
