// Talking to the server: the token, sending the outbox in batches with exponential backoff,
// and pulling the worklist (whole, or only what changed since the last pull).
import { households, meta, outbox, sent } from "./store.js";

const API = "/api/v1/";
const BATCH = 100; // visits per request (the server takes up to 200)
const BACKOFF_FIRST = 2000; // ms; doubles on each failure
const BACKOFF_MAX = 5 * 60 * 1000;

export const events = new EventTarget();
function emit(type, detail = {}) {
  events.dispatchEvent(new CustomEvent(type, { detail }));
}

export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function cookie(name) {
  const hit = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : "";
}

async function call(path, { method = "GET", body, token, session = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = "Bearer " + token;
  if (session) headers["X-CSRFToken"] = cookie("csrftoken");
  let response;
  try {
    response = await fetch(API + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: session ? "same-origin" : "omit",
      cache: "no-store",
    });
  } catch (err) {
    throw new HttpError(0, "network");
  }
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    data = null;
  }
  if (!response.ok) {
    const detail = data && typeof data.detail === "string" ? data.detail : response.statusText;
    // The phone's login ended (a new password, a lost phone, too long unused): ask to log in
    // again, whichever request found out. The outbox stays on the phone until then.
    if (response.status === 401 && token) emit("sync", { state: "login", message: detail });
    throw new HttpError(response.status, detail);
  }
  return data;
}

// --- the token ------------------------------------------------------------------------------

export async function token() {
  return meta.get("token");
}

// Log in once: the session of the login page is traded for a bearer token kept on the phone.
export async function tokenFromSession() {
  const data = await call("field/token", { method: "POST", session: true });
  await meta.set("token", data.token);
  return data.token;
}

export async function loadMe() {
  const me = await call("me", { token: await token() });
  await meta.set("me", me);
  return me;
}

export async function logout() {
  const key = await token();
  if (key) {
    try {
      await call("auth/revoke", { method: "POST", token: key });
    } catch (err) {
      // Offline: the token stays valid on the server until an administrator revokes it.
    }
  }
}

// --- sending the outbox ---------------------------------------------------------------------

let sending = false;
let failures = 0;
let timer = null;
export let nextTry = null; // Date of the next automatic try, or null

function schedule(ms) {
  clearTimeout(timer);
  nextTry = new Date(Date.now() + ms);
  timer = setTimeout(() => {
    nextTry = null;
    sendOutbox();
  }, ms);
  emit("sync", { state: "waiting", nextTry });
}

export function retryNow() {
  failures = 0;
  clearTimeout(timer);
  nextTry = null;
  return sendOutbox();
}

// Sends every waiting visit of the logged-in member, BATCH at a time, oldest first. Accepted
// (created or duplicate) visits leave the outbox; rejected ones stay with the server's reason.
// On a network or server error, tries again after 2, 4, 8 … seconds (at most 5 minutes,
// with jitter); a new connection ("online") tries at once.
export async function sendOutbox() {
  if (sending) return;
  const key = await token();
  const me = await meta.get("me");
  if (!key || !me) return;
  sending = true;
  let batchSize = BATCH;
  let sentAny = false;
  try {
    for (;;) {
      const waiting = (await outbox.all()).filter(
        (v) => v.state === "waiting" && v.username === me.username,
      );
      if (!waiting.length) break;
      const batch = waiting.slice(0, batchSize);
      emit("sync", { state: "sending", count: batch.length });
      let answer;
      try {
        answer = await call("visits/sync", {
          method: "POST",
          token: key,
          body: {
            visits: batch.map((v) => ({
              id: v.id,
              household: v.household,
              at: v.at,
              outcomes: v.outcomes,
              location: v.location,
            })),
          },
        });
      } catch (err) {
        if (err.status === 413 && batchSize > 1) {
          batchSize = Math.max(1, Math.floor(batchSize / 2));
          continue;
        }
        throw err;
      }
      const byId = new Map(batch.map((v) => [v.id, v]));
      if (!answer || !Array.isArray(answer.results) || !answer.results.some((r) => byId.has(r.id))) {
        throw new HttpError(500, "unexpected answer from the server");
      }
      await outbox.settle(answer.results, byId);
      await meta.set("lastSync", new Date().toISOString());
      sentAny = true;
      failures = 0;
      emit("outbox");
    }
    emit("sync", { state: "idle" });
    await sent.prune(7);
  } catch (err) {
    if (err.status === 401) {
      emit("sync", { state: "login", message: err.message });
    } else {
      failures += 1;
      const delay = Math.min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (failures - 1));
      const jitter = Math.round(delay * 0.2 * Math.random());
      emit("sync", { state: "error", message: err.message, status: err.status });
      schedule(delay + jitter);
    }
    return;
  } finally {
    sending = false;
  }
  if (sentAny) {
    // After a sync, pull what changed (others' visits, new extracts), not the whole list.
    try {
      await pull();
    } catch (err) {
      emit("pull", { state: "error", message: err.message, status: err.status });
    }
  }
}

// --- pulling the worklist -------------------------------------------------------------------

let pulling = null;

// With a cursor from the last pull, only the households that changed come back (and the ids
// to drop); the server answers the whole list when it must (a new day, a new campaign).
export function pull({ full = false } = {}) {
  if (!pulling) {
    pulling = doPull(full).finally(() => {
      pulling = null;
    });
  }
  return pulling;
}

async function doPull(forceFull) {
  const key = await token();
  if (!key) return null;
  emit("pull", { state: "pulling" });
  const since = forceFull ? null : await meta.get("cursor");
  let offset = 0;
  let first = null;
  const rows = [];
  const removed = [];
  for (;;) {
    const params = new URLSearchParams({ offset: String(offset), limit: "500" });
    if (since) params.set("since", since);
    let page;
    try {
      page = await call("worklist?" + params, { token: key });
    } catch (err) {
      // A cursor the server no longer reads (a new server key, another account): start over.
      if (err.status === 422 && since) return doPull(true);
      throw err;
    }
    if (!first) first = page;
    rows.push(...page.households);
    removed.push(...page.removed);
    if (page.next_offset === null || page.next_offset === undefined) break;
    offset = page.next_offset;
  }
  if (first.full) await households.replace(rows);
  else await households.merge(rows, removed);
  // The first page's cursor: anything that changed while the pages came is pulled next time.
  await meta.set("cursor", first.cursor);
  await meta.set("lastPull", new Date().toISOString());
  emit("pull", { state: "done", count: rows.length, full: first.full });
  return { count: rows.length, full: first.full };
}
