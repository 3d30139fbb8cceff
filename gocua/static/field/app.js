// The field page: the worklist, recording visits (two taps per resident), the outbox.
// Plain JavaScript modules, no framework; no inline script or style (strict CSP).
import * as store from "./store.js";
import * as sync from "./sync.js";

const S = JSON.parse(document.getElementById("field-strings").textContent);
const T = S.text;
const OUTCOME_LABEL = Object.fromEntries(S.outcomes);
const body = document.body;
const $ = (id) => document.getElementById(id);

const state = {
  view: "start",
  me: null,
  household: null, // the household being recorded
  draft: {}, // resident id -> outcome, for the open household
  picking: null, // the resident whose outcome is being chosen
};

// --- small helpers --------------------------------------------------------------------------

function fmt(text, values = {}) {
  return text.replace(/%\((\w+)\)s/g, (_m, key) => String(values[key] ?? ""));
}

function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function fold(text) {
  return (text || "")
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/đ/g, "d")
    .replace(/Đ/g, "D")
    .toLowerCase();
}

function time(iso) {
  if (!iso) return T.never;
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  const clock = d.toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit" });
  return sameDay ? clock : d.toLocaleDateString("vi-VN") + " " + clock;
}

function uuid4() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

let toastTimer = null;
function toast(text) {
  const node = $("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    node.hidden = true;
  }, 3000);
}

function banner(text) {
  const node = $("banner");
  node.replaceChildren();
  if (!text) {
    node.hidden = true;
    return;
  }
  node.append(text);
  node.hidden = false;
}

function loginBanner(message) {
  const link = h("a", { href: body.dataset.loginUrl, class: "button small" }, T.login);
  banner(h("span", {}, message || T.login_needed, " ", link));
}

// --- views ----------------------------------------------------------------------------------

function show(view) {
  state.view = view;
  document.querySelectorAll(".view").forEach((node) => {
    node.hidden = node.id !== "view-" + view;
  });
  const tabView = view === "household" ? "list" : view;
  document.querySelectorAll(".tab").forEach((tab) => {
    tab.classList.toggle("active", tab.dataset.view === tabView);
  });
  $("tabs").hidden = view === "login" || view === "start";
  window.scrollTo(0, 0);
  if (view === "list") renderList();
  if (view === "outbox") renderOutbox();
  if (view === "help") renderHelp();
}

function renderNet() {
  const online = navigator.onLine;
  const pill = $("net");
  pill.textContent = online ? T.online : T.offline;
  pill.classList.toggle("off", !online);
}

async function visitsByHousehold() {
  const all = [...(await store.outbox.all()), ...(await store.sent.all())];
  const map = new Map();
  for (const v of all) {
    const last = map.get(v.household);
    if (!last || last.at < v.at) map.set(v.household, v);
  }
  return map;
}

function sortHouseholds(rows) {
  const collator = new Intl.Collator("vi", { numeric: true });
  return rows.sort(
    (a, b) => collator.compare(a.hamlet, b.hamlet) || collator.compare(a.address, b.address) || a.id - b.id,
  );
}

async function renderList() {
  const me = state.me;
  $("hello").textContent = me ? fmt(T.hello, { name: me.full_name || me.username }) : "";
  const lastPull = await store.meta.get("lastPull");
  $("pull-status").textContent = fmt(T.last_pull, { time: time(lastPull) });
  const query = fold($("search").value.trim());
  const rows = sortHouseholds(await store.households.all());
  const visited = await visitsByHousehold();
  const list = $("households");
  list.replaceChildren();
  if (!rows.length) {
    const empty = me && me.hamlets && me.hamlets.length === 0 ? T.no_hamlets : T.no_households;
    list.append(h("li", { class: "empty" }, empty));
    return;
  }
  let shown = 0;
  for (const row of rows) {
    const text = fold(row.address + " " + row.hamlet + " " + row.residents.map((r) => r.name).join(" "));
    if (query && !text.includes(query)) continue;
    shown += 1;
    const last = visited.get(row.id);
    const gaps = [...new Set(row.residents.map((r) => S.gaps[r.gap] || r.gap))];
    list.append(
      h(
        "li",
        {},
        h(
          "button",
          { type: "button", class: "item household", dataset: { id: row.id }, onclick: () => openHousehold(row.id) },
          h("span", { class: "title" }, row.address),
          h("span", { class: "sub" }, row.hamlet, " · ", fmt(T.people, { count: row.residents.length })),
          h("span", { class: "chips" }, gaps.map((g) => h("span", { class: "chip" }, g))),
          last ? h("span", { class: "badge " + (last.state || "") }, fmt(T.visited, { time: time(last.at) })) : null,
        ),
      ),
    );
  }
  $("pull-status").textContent += " · " + fmt(T.households, { count: shown });
}

async function openHousehold(id) {
  const row = await store.households.get(id);
  if (!row) return;
  state.household = row;
  const draft = await store.meta.get("draft");
  state.draft = draft && draft.household === id ? draft.outcomes : {};
  $("hh-address").textContent = row.address;
  $("hh-hamlet").textContent = row.hamlet;
  renderResidents();
  show("household");
}

function renderResidents() {
  const row = state.household;
  const list = $("residents");
  list.replaceChildren();
  for (const r of row.residents) {
    const chosen = state.draft[r.id];
    const flags = r.flags.map((f) => S.flags[f] || f);
    list.append(
      h(
        "li",
        {},
        h(
          "button",
          { type: "button", class: "item resident" + (chosen ? " chosen" : ""), dataset: { id: r.id }, onclick: () => pick(r) },
          h("span", { class: "title" }, r.name),
          h("span", { class: "sub" }, fmt(T.age, { age: r.age }) + " · " + r.national_id_masked),
          h("span", { class: "chips" }, h("span", { class: "chip gap" }, S.gaps[r.gap] || r.gap), flags.map((f) => h("span", { class: "chip flag" }, f))),
          h("span", { class: "outcome" }, chosen ? OUTCOME_LABEL[chosen] : T.choose),
        ),
      ),
    );
  }
  const count = Object.keys(state.draft).length;
  const save = $("save");
  save.disabled = count === 0;
  save.textContent = fmt(T.save_visit, { count });
}

function pick(resident) {
  state.picking = resident;
  $("sheet-title").textContent = resident.name;
  const grid = $("sheet-outcomes");
  grid.replaceChildren();
  for (const [code, label] of S.outcomes) {
    const selected = state.draft[resident.id] === code;
    grid.append(
      h("button", { type: "button", class: "outcome-button" + (selected ? " selected" : ""), dataset: { outcome: code }, onclick: () => choose(code) }, label),
    );
  }
  $("sheet").hidden = false;
}

async function choose(code) {
  if (state.picking) {
    if (code) state.draft[state.picking.id] = code;
    else delete state.draft[state.picking.id];
  }
  state.picking = null;
  $("sheet").hidden = true;
  await store.meta.set("draft", { household: state.household.id, outcomes: state.draft });
  renderResidents();
}

async function allNotHome() {
  for (const r of state.household.residents) state.draft[r.id] = "not_home";
  await store.meta.set("draft", { household: state.household.id, outcomes: state.draft });
  renderResidents();
}

function position() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: +p.coords.latitude.toFixed(6), lon: +p.coords.longitude.toFixed(6) }),
      () => resolve(null),
      { timeout: 5000, maximumAge: 60000 },
    );
  });
}

async function saveVisit() {
  const row = state.household;
  const outcomes = Object.entries(state.draft).map(([resident, outcome]) => ({
    resident: Number(resident),
    outcome,
    note: "",
  }));
  if (!outcomes.length) return;
  $("save").disabled = true;
  const location = (await store.meta.get("gps")) ? await position() : null;
  const names = Object.fromEntries(row.residents.map((r) => [r.id, r.name]));
  await store.outbox.add({
    id: uuid4(),
    household: row.id,
    at: new Date().toISOString(),
    outcomes,
    location,
    username: state.me.username,
    state: "waiting",
    error: "",
    created: Date.now(),
    address: row.address,
    hamlet: row.hamlet,
    names,
  });
  await store.meta.remove("draft");
  state.draft = {};
  toast(T.saved);
  await renderCount();
  show("list");
  if (navigator.onLine) sync.sendOutbox();
}

function summary(visit) {
  return visit.outcomes.map((o) => `${(visit.names || {})[o.resident] || "#" + o.resident}: ${OUTCOME_LABEL[o.outcome] || o.outcome}`).join("; ");
}

async function renderCount() {
  const me = state.me;
  const waiting = (await store.outbox.all()).filter((v) => !me || v.username === me.username);
  $("outbox-count").textContent = String(waiting.length);
  $("outbox-count").classList.toggle("zero", waiting.length === 0);
}

async function renderOutbox() {
  // Read everything first, then redraw without awaiting: two renders running side by side (a
  // sync ending while the tab opens) would otherwise both clear and both append.
  const me = state.me;
  const items = (await store.outbox.all()).filter((v) => !me || v.username === me.username);
  const recent = (await store.sent.all()).sort((a, b) => (a.sentAt < b.sentAt ? 1 : -1)).slice(0, 30);
  const list = $("outbox");
  list.replaceChildren();
  if (!items.length) list.append(h("li", { class: "empty" }, T.outbox_empty));
  for (const v of items) {
    const rejected = v.state === "rejected";
    list.append(
      h(
        "li",
        { class: "visit " + v.state, dataset: { id: v.id } },
        h("span", { class: "title" }, v.address, " · ", time(v.at)),
        h("span", { class: "sub" }, summary(v)),
        h("span", { class: "state" }, rejected ? T.rejected : T.waiting),
        rejected ? h("span", { class: "error" }, v.error) : null,
        rejected ? h("button", { type: "button", class: "secondary small", onclick: () => discard(v) }, T.discard) : null,
      ),
    );
  }
  const sentList = $("sent");
  sentList.replaceChildren();
  for (const v of recent) {
    sentList.append(
      h("li", { class: "visit sent" }, h("span", { class: "title" }, v.address, " · ", time(v.at)), h("span", { class: "sub" }, summary(v)), h("span", { class: "state" }, T.sent + " " + time(v.sentAt))),
    );
  }
  await renderSyncStatus();
}

async function renderSyncStatus(extra = "") {
  const lastSync = await store.meta.get("lastSync");
  let text = fmt(T.last_sync, { time: time(lastSync) });
  if (sync.nextTry) text += " · " + fmt(T.retry_in, { seconds: Math.max(1, Math.round((sync.nextTry - Date.now()) / 1000)) });
  if (extra) text += " · " + extra;
  $("sync-status").textContent = text;
}

async function discard(visit) {
  if (!window.confirm(T.discard_confirm)) return;
  await store.outbox.remove(visit.id);
  await renderCount();
  renderOutbox();
}

async function renderHelp() {
  $("gps").checked = Boolean(await store.meta.get("gps"));
  const me = state.me;
  $("who").textContent = me ? `${me.full_name || me.username} (${me.username}) · ${(me.hamlets || []).map((x) => x.name).join(", ")}` : "";
}

async function logout() {
  const me = state.me;
  const waiting = (await store.outbox.all()).filter((v) => me && v.username === me.username && v.state === "waiting");
  if (waiting.length && !window.confirm(fmt(T.logout_confirm, { count: waiting.length }))) return;
  await sync.logout();
  await store.forgetUser();
  state.me = null;
  // End the browser session too, so the next person must log in.
  try {
    const form = new FormData();
    const csrf = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
    await fetch("/accounts/logout/", {
      method: "POST",
      body: form,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf ? decodeURIComponent(csrf.split("=")[1]) : "" },
    });
  } catch (err) {
    // offline: the session ends by itself
  }
  show("login");
}

// --- start ----------------------------------------------------------------------------------

async function sessionUser() {
  try {
    const response = await fetch("/api/v1/me", { credentials: "same-origin", cache: "no-store" });
    return response.ok ? await response.json() : null;
  } catch (err) {
    return null;
  }
}

async function signIn() {
  const online = navigator.onLine;
  // The session of the login page (if any) decides who uses this phone now.
  const fromSession = online ? await sessionUser() : null;
  const stored = await store.meta.get("me");
  if (fromSession && stored && fromSession.username !== stored.username) await store.forgetUser();
  if (!(await sync.token())) {
    if (!fromSession) return false;
    await sync.tokenFromSession();
  }
  state.me = (await store.meta.get("me")) || null;
  if (!online) return Boolean(state.me);
  try {
    state.me = await sync.loadMe();
  } catch (err) {
    if (err.status !== 401) return Boolean(state.me); // a bad connection: go on offline
    // The token was revoked: the session can give a new one; otherwise log in again (the
    // outbox waits for it).
    await store.meta.remove("token");
    if (!fromSession) return false;
    await sync.tokenFromSession();
    state.me = await sync.loadMe();
  }
  return true;
}

async function start() {
  renderNet();
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(body.dataset.swUrl, { scope: body.dataset.scope }).catch(() => {});
  }
  let ok = false;
  try {
    ok = await signIn();
  } catch (err) {
    $("login-message").textContent = fmt(T.error, { message: err.message });
    $("login-message").hidden = false;
  }
  if (!ok) {
    if (!navigator.onLine) {
      $("login-message").textContent = T.no_network;
      $("login-message").hidden = false;
    }
    show("login");
    return;
  }
  if (state.me && !state.me.can_see_residents) {
    banner(T.not_field);
  }
  await renderCount();
  show("list");
  if (navigator.onLine) {
    const hasList = (await store.households.all()).length > 0;
    try {
      if (!hasList || !(await store.meta.get("cursor"))) await sync.pull({ full: true });
      else await sync.pull();
    } catch (err) {
      toast(fmt(T.error, { message: err.message }));
    }
    sync.sendOutbox();
  }
}

// --- wiring ---------------------------------------------------------------------------------

document.querySelectorAll(".tab").forEach((tab) => tab.addEventListener("click", () => show(tab.dataset.view)));
$("back").addEventListener("click", () => show("list"));
$("search").addEventListener("input", () => renderList());
$("pull").addEventListener("click", async () => {
  if (!navigator.onLine) return toast(T.no_network);
  try {
    await sync.pull();
  } catch (err) {
    toast(fmt(T.error, { message: err.message }));
  }
});
$("all-not-home").addEventListener("click", allNotHome);
$("save").addEventListener("click", saveVisit);
$("sheet-cancel").addEventListener("click", () => {
  state.picking = null;
  $("sheet").hidden = true;
});
$("sheet-clear").addEventListener("click", () => choose(null));
$("send").addEventListener("click", () => {
  if (!navigator.onLine) return toast(T.no_network);
  sync.retryNow();
});
$("gps").addEventListener("change", (e) => store.meta.set("gps", e.target.checked));
$("logout").addEventListener("click", logout);

window.addEventListener("online", () => {
  renderNet();
  sync.retryNow();
});
window.addEventListener("offline", renderNet);

sync.events.addEventListener("outbox", async () => {
  await renderCount();
  if (state.view === "outbox") renderOutbox();
  if (state.view === "list") renderList();
});
sync.events.addEventListener("sync", async (e) => {
  const d = e.detail;
  body.dataset.sync = d.state;
  if (d.state === "login") loginBanner(d.message ? T.login_needed : "");
  else if (d.state === "idle") banner("");
  await renderCount();
  if (state.view === "outbox") {
    if (d.state === "sending") renderSyncStatus(T.sending);
    else if (d.state === "error") renderSyncStatus(d.status ? fmt(T.error, { message: d.message }) : T.no_network);
    else renderOutbox();
  }
});
sync.events.addEventListener("pull", (e) => {
  const d = e.detail;
  body.dataset.pull = d.state;
  if (d.state === "pulling") $("pull-status").textContent = T.pulling;
  if (d.state === "done") {
    if (state.view === "list") renderList();
    if (!d.full && d.count) toast(fmt(T.pulled, { count: d.count }));
  }
});

// Every minute, try again anything still waiting (e.g. the network came back unnoticed).
setInterval(async () => {
  if (!navigator.onLine || sync.nextTry || !state.me) return;
  const waiting = (await store.outbox.all()).some((v) => v.state === "waiting" && v.username === state.me.username);
  if (waiting) sync.sendOutbox();
}, 60000);

start();
