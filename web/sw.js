// Keeps the recovery page usable offline: every same-origin GET is fetched from the network
// when possible (and remembered), and served from the cache when not. The page exists for bad
// days; it must open when the app's server or the network is gone — after one visit, so what
// the first visit fetched before this worker ran (the page's own files, rewind.json and what
// it names) is fetched again and kept when the worker installs. Every path is relative to
// this file: the page's folder sits under any path of the app's site.
const CACHE = "rewind-recovery-v2";
const CONFIG = "rewind.json";

const here = (path) => new URL(path, self.location).href;
const ours = (url) => new URL(url).origin === self.location.origin;

/** The page's own files: what index.html loads, and what its loader script loads. */
async function pageFiles() {
  const html = await (await fetch(here("./index.html"), { cache: "no-cache" })).text();
  const files = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => here(m[1]));
  const loaders = files.filter((u) => ours(u) && /\/boot-[0-9a-f]+\.js$/.test(u));
  for (const loader of loaders) {
    const text = await (await fetch(loader, { cache: "no-cache" })).text();
    for (const m of text.matchAll(/['"]([^'"\s]+\.(?:js|wasm))['"]/g)) files.push(new URL(m[1], loader).href);
  }
  return files.filter((u) => ours(u));
}

/** rewind.json and the migrations and transforms module it names (none: nothing to keep). */
async function configFiles() {
  const response = await fetch(here(CONFIG), { cache: "no-cache" });
  if (!response.ok) return [];
  const config = await response.json();
  const files = [here(CONFIG)];
  for (const db of Array.isArray(config?.databases) ? config.databases : []) {
    for (const url of [db?.migrations, db?.transforms]) {
      if (typeof url === "string") files.push(new URL(url, here(CONFIG)).href);
    }
  }
  return files.filter((u) => ours(u));
}

async function keep(cache, url) {
  const response = await fetch(url, { cache: "no-cache" });
  if (response.ok) await cache.put(url, response);
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(["./", "./index.html"]).catch(() => {});
    // Best effort: a file that cannot be fetched now is kept the next time the page loads it.
    const files = [
      ...(await pageFiles().catch(() => [])),
      ...(await configFiles().catch(() => [])),
    ];
    await Promise.all([...new Set(files)].map((url) => keep(cache, url).catch(() => {})));
  })());
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      })
      .catch(async () => {
        const hit = await caches.match(request, { ignoreSearch: true });
        if (hit) return hit;
        // A page address answers with the page; a file never does (rewind.json must not be HTML).
        const page = request.mode === "navigate" ? await caches.match(here("./index.html")) : undefined;
        return page ?? Response.error();
      }),
  );
});
