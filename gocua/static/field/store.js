// The phone's storage (IndexedDB): the token and settings, the worklist, the outbox of visits
// not yet accepted by the server, and the visits sent recently (for display only).
// Everything survives a reload, a closed tab and a phone restart.

const DB_NAME = "gocua-field";
const DB_VERSION = 1;

let opening = null;

function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        db.createObjectStore("meta");
        db.createObjectStore("households", { keyPath: "id" });
        const outbox = db.createObjectStore("outbox", { keyPath: "id" });
        outbox.createIndex("created", "created");
        const sent = db.createObjectStore("sent", { keyPath: "id" });
        sent.createIndex("household", "household");
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return opening;
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
  });
}

function result(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function read(store, fn) {
  const db = await open();
  const tx = db.transaction(store, "readonly");
  return result(fn(tx.objectStore(store)));
}

async function write(stores, fn) {
  const db = await open();
  const tx = db.transaction(stores, "readwrite");
  fn(tx);
  return done(tx);
}

export const meta = {
  get: (key) => read("meta", (s) => s.get(key)),
  set: (key, value) => write("meta", (tx) => tx.objectStore("meta").put(value, key)),
  remove: (key) => write("meta", (tx) => tx.objectStore("meta").delete(key)),
};

export const households = {
  all: () => read("households", (s) => s.getAll()),
  get: (id) => read("households", (s) => s.get(id)),
  // A full pull: the new list replaces the old one in one transaction (never half a list).
  replace: (rows) =>
    write("households", (tx) => {
      const s = tx.objectStore("households");
      s.clear();
      rows.forEach((row) => s.put(row));
    }),
  // A delta pull: changed households are replaced, removed ones dropped.
  merge: (rows, removed) =>
    write("households", (tx) => {
      const s = tx.objectStore("households");
      rows.forEach((row) => s.put(row));
      removed.forEach((id) => s.delete(id));
    }),
  clear: () => write("households", (tx) => tx.objectStore("households").clear()),
};

export const outbox = {
  all: () => read("outbox", (s) => s.index("created").getAll()),
  add: (visit) => write("outbox", (tx) => tx.objectStore("outbox").add(visit)),
  put: (visit) => write("outbox", (tx) => tx.objectStore("outbox").put(visit)),
  remove: (id) => write("outbox", (tx) => tx.objectStore("outbox").delete(id)),
  // The server's answers to a batch: accepted visits move to `sent`, rejected ones stay, with
  // the server's reason, until the member discards them.
  settle: (answers, visitsById) =>
    write(["outbox", "sent"], (tx) => {
      const box = tx.objectStore("outbox");
      const sent = tx.objectStore("sent");
      for (const answer of answers) {
        const visit = visitsById.get(answer.id);
        if (!visit) continue;
        if (answer.status === "rejected") {
          box.put({ ...visit, state: "rejected", error: answer.error });
        } else {
          box.delete(visit.id);
          sent.put({ ...visit, state: answer.status, sentAt: new Date().toISOString() });
        }
      }
    }),
};

export const sent = {
  all: () => read("sent", (s) => s.getAll()),
  prune: async (days) => {
    const limit = Date.now() - days * 86400000;
    const rows = await sent.all();
    const old = rows.filter((r) => Date.parse(r.sentAt) < limit);
    if (old.length) await write("sent", (tx) => old.forEach((r) => tx.objectStore("sent").delete(r.id)));
  },
};

// Log out: forget the token, the list and the history. The outbox is kept (tagged with its
// member) so unsent work is never lost; it is sent when that member logs in again.
export async function forgetUser() {
  await write(["meta", "households", "sent"], (tx) => {
    const m = tx.objectStore("meta");
    ["token", "me", "cursor", "lastPull"].forEach((k) => m.delete(k));
    tx.objectStore("households").clear();
    tx.objectStore("sent").clear();
  });
}
