// The field page's service worker: keeps the app shell on the phone so the page opens with no
// network. Served by /field/sw.js (scope /field/), which fills in the version and the list of
// shell files; the version changes whenever a shell file does, and the browser then installs
// the new shell next to the old one and switches when it is complete.
// Data never goes through here: the worklist and the outbox live in IndexedDB, and API calls
// go straight to the network.

const VERSION = "__VERSION__";
const CACHE = "gocua-field-" + VERSION;
const SHELL = ["__SHELL__"];
const PAGE = SHELL[0];

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      for (const url of SHELL) {
        const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
        // A redirect (an expired session) or an error must not become the offline shell:
        // failing the install keeps the previous, complete shell.
        if (!response.ok || response.redirected) throw new Error("shell file unavailable: " + url);
        await cache.put(url, response);
      }
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("gocua-field-") && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  let key = null;
  if (request.mode === "navigate" && url.pathname === PAGE) key = PAGE;
  else if (SHELL.includes(url.pathname)) key = url.pathname;
  if (!key) return; // the API and everything else: the network, untouched
  // The shell first from the phone (instant, and the same offline), else from the network.
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      const hit = await cache.match(key, { ignoreVary: true });
      return hit || fetch(request);
    })(),
  );
});
