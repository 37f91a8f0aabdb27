// The benchmark's deterministic dataset: the same seed gives the same records, in the browser
// and in Node. Three stores — `items` (in-line key `id`), `docs` (out-of-line string keys) and
// `events` (auto-increment) — of mixed records (strings, numbers, booleans, nested objects,
// arrays, Dates) of about 650 bytes of JSON each; optionally one record in ten carries a Blob.

/** mulberry32: a small, fast, seedable PRNG. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor " +
  "incididunt ut labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation " +
  "ullamco laboris nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit " +
  "voluptate velit esse cillum fugiat nulla pariatur excepteur sint occaecat cupidatat non " +
  "proident sunt culpa qui officia deserunt mollit anim id est laborum café über naïve 東京").split(" ");
const CITIES = ["Lyon", "Porto", "Kraków", "Zürich", "Osaka", "Recife", "Tartu", "Malmö"];

function words(r, n) {
  let s = "";
  for (let i = 0; i < n; i++) s += (i ? " " : "") + WORDS[(r() * WORDS.length) | 0];
  return s;
}

/** Record `i` (0-based) of a store; `r` is the store's PRNG. */
export function record(i, r) {
  return {
    title: words(r, 5),
    body: words(r, 31),
    n: Math.round(r() * 1e6) / 100,
    count: (r() * 1000) | 0,
    done: r() < 0.5,
    created: new Date(Date.UTC(2024, 0, 1) + i * 60_000),
    updated: r() < 0.5 ? new Date(Date.UTC(2025, 0, 1) + ((r() * 1e9) | 0)) : null,
    tags: [words(r, 1), words(r, 1), words(r, 1)],
    scores: [r(), (r() * 100) | 0, -((r() * 1e4) | 0)],
    author: {
      name: words(r, 2),
      email: `user${(r() * 1e5) | 0}@example.org`,
      address: { city: CITIES[(r() * CITIES.length) | 0], zip: String(10000 + ((r() * 89999) | 0)) },
    },
    history: [
      { at: new Date(Date.UTC(2024, 5, 1) + i * 1000), by: words(r, 1), ok: true },
      { at: new Date(Date.UTC(2024, 6, 1) + i * 1000), by: words(r, 1), ok: false },
    ],
  };
}

export const STORES = ["items", "docs", "events"];

/** The migrations the benchmark database is made with: v1 creates the stores, v2 is a data
 * step over every record of every store (and its `down` removes the field again). */
export const MIGRATIONS = [
  { version: 1, name: "stores",
    up: [{ op: "createStore", store: "items", keyPath: "id" },
         { op: "createIndex", store: "items", index: "by_count", keyPath: "count" },
         { op: "createStore", store: "docs" },
         { op: "createStore", store: "events", autoIncrement: true }],
    down: [{ op: "deleteStore", store: "events" }, { op: "deleteStore", store: "docs" },
           { op: "deleteStore", store: "items" }] },
  { version: 2, name: "flag every record",
    up: STORES.map((store) => ({ op: "addField", store, field: "meta.migrated", value: true })),
    down: STORES.map((store) => ({ op: "removeField", store, field: "meta.migrated" })) },
];

/**
 * Calls `sink(store, key, value)` for every record of a dataset of `total` records split over
 * the three stores; `key` is undefined for in-line and auto-increment stores.
 * With `blobs`, every tenth record gets a 4 KiB Blob attachment.
 */
export function generate(total, { blobs = false, seed = 7 } = {}, sink) {
  const per = Math.floor(total / 3);
  const counts = [total - 2 * per, per, per];
  STORES.forEach((store, s) => {
    const r = rng(seed * 31 + s);
    for (let i = 0; i < counts[s]; i++) {
      const v = record(i, r);
      if (blobs && i % 10 === 0) {
        const bytes = new Uint8Array(4096);
        for (let b = 0; b < bytes.length; b += 4) bytes[b] = (r() * 256) | 0;
        v.attachment = new Blob([bytes], { type: "application/octet-stream" });
      }
      if (store === "items") sink(store, undefined, { id: i, ...v });
      else if (store === "docs") sink(store, `doc-${String(i).padStart(7, "0")}`, v);
      else sink(store, undefined, v);
    }
  });
}
