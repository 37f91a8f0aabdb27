// The notes app offline: everything the app needs to start is kept at install, and every request
// goes to the network first (so a new release is picked up at once) and to the kept copy when
// the network fails. The recovery page (./recovery/) is left alone: it is its own folder with its
// own worker, and must work even when this app's files are what is broken.
const CACHE = "notes-app-2";
const FILES = ["./", "index.html", "style.css", "app.js", "rewind_bg.wasm", "migrations.json"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const scope = new URL(self.registration.scope);
  if (event.request.method !== "GET" || url.origin !== scope.origin) return;
  if (url.pathname.startsWith(new URL("recovery/", scope).pathname)) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(event.request);
      if (response.ok) await cache.put(event.request, response.clone());
      return response;
    } catch (e) {
      const kept = await cache.match(event.request, { ignoreSearch: true });
      if (kept) return kept;
      throw e;
    }
  })());
});
