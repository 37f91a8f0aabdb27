// IndexedDB used raw, behind Rewind's back, as an app or another tab would: the tests' records
// put and read without the adapter, so that what they check does not rest on the code tested.

const result = (request) => new Promise((ok, fail) => {
  request.onsuccess = () => ok(request.result);
  request.onerror = () => fail(request.error);
});

const committed = (tx) => new Promise((ok, fail) => {
  tx.oncomplete = ok;
  tx.onerror = () => fail(tx.error);
});

const open = (name) => result(indexedDB.open(name));

/** Everything in database `name` as one JSON text: IDB version, every store's schema options
 * and every key and record (Rewind's own stores included). */
export async function dump(name) {
  const db = await open(name);
  const out = { version: db.version, stores: {} };
  const names = [...db.objectStoreNames];
  if (names.length) {
    const tx = db.transaction(names, "readonly");
    for (const n of names) {
      const s = tx.objectStore(n);
      out.stores[n] = {
        keyPath: s.keyPath, autoIncrement: s.autoIncrement,
        indexes: [...s.indexNames].map((i) => {
          const x = s.index(i);
          return [i, x.keyPath, x.unique, x.multiEntry];
        }),
        keys: await result(s.getAllKeys()), values: await result(s.getAll()),
      };
    }
  }
  db.close();
  return JSON.stringify(out);
}

/** A connection to `name` that ignores `versionchange`: another tab holding on. */
export async function open_ignoring_versionchange(name) {
  const db = await open(name);
  db.onversionchange = () => {};
  return db;
}

/** Puts `count` notes shaped as the demo's version 1 has them (each with a Date, which data
 * steps must leave a Date) and a setting. */
export async function put_v1_notes(name, count) {
  const db = await open(name);
  const tx = db.transaction(["notes", "settings"], "readwrite");
  for (let i = 1; i <= count; i++) {
    tx.objectStore("notes").put({ notebookId: "nb-" + (i % 3), title: "note " + i, body: "w ".repeat(i).trim(),
      updatedAt: new Date(Date.UTC(2026, 0, i)), meta: { rating: i } });
  }
  tx.objectStore("settings").put("dark", "theme");
  await committed(tx);
  db.close();
}

/** The notes as JSON, each with `updatedIsDate`: whether its `updatedAt` is still a Date. */
export async function notes_json(name) {
  const db = await open(name);
  const all = await result(db.transaction("notes").objectStore("notes").getAll());
  db.close();
  return JSON.stringify(all.map((n) => ({ ...n, updatedIsDate: n.updatedAt instanceof Date })));
}

/** Fills a demo database at version 2: 50 notes (Dates, nested objects, -0 and NaN), four
 * notebooks, and settings holding a Blob ("greeting") and a Map. */
export async function put_v2_records(name) {
  const db = await open(name);
  const tx = db.transaction(["notes", "notebooks", "settings"], "readwrite");
  for (let i = 1; i <= 50; i++) {
    tx.objectStore("notes").put({ notebookId: "nb-" + (i % 4), title: "n" + i, body: "x", tags: i % 2 ? ["a", "b"] : [],
      updatedAt: new Date(Date.UTC(2026, 1, i)), meta: { n: i, nested: { deep: [i, -0, NaN] } } });
  }
  for (let i = 0; i < 4; i++) tx.objectStore("notebooks").put({ id: "nb-" + i, name: "Notebook " + i });
  tx.objectStore("settings").put(new Blob(["hello"], { type: "text/plain" }), "greeting");
  tx.objectStore("settings").put(new Map([[1, "one"]]), "map");
  await committed(tx);
  db.close();
}

/** Adds `count` notes of `bytes` characters each (varied, so nothing compresses them away):
 * a database larger than a test's buffer limit. */
export async function put_large_notes(name, count, bytes) {
  const db = await open(name);
  const tx = db.transaction("notes", "readwrite");
  for (let i = 0; i < count; i++) {
    const body = Array.from({ length: Math.ceil(bytes / 8) }, (_, j) => ((i * 7919 + j * 104729) % 1e8).toString(36).padStart(8, "0")).join("").slice(0, bytes);
    tx.objectStore("notes").put({ notebookId: "nb-big", title: "big " + i, body, tags: [], updatedAt: new Date(Date.UTC(2026, 2, 1)), meta: { n: i } });
  }
  await committed(tx);
  db.close();
}

/** The "greeting" setting as "type:text", or "not a blob". */
export async function greeting_text(name) {
  const db = await open(name);
  const b = await result(db.transaction("settings").objectStore("settings").get("greeting"));
  db.close();
  return b instanceof Blob ? b.type + ":" + await b.text() : "not a blob";
}

/** Puts `count` notes into the store `notes` (key path `id`): note `i` has the `uuid`
 * "u" + (count + 1 - i), a Date and tags. `defect` changes note `at`: "missing" (no uuid),
 * "duplicate" (note 1's uuid), "not-a-key" (an object as its uuid); "" changes none. */
export async function put_keyed_notes(name, count, defect, at) {
  const db = await open(name);
  const tx = db.transaction("notes", "readwrite");
  for (let i = 1; i <= count; i++) {
    const note = { id: i, uuid: "u" + (count + 1 - i), title: "note " + i, tags: i % 2 ? ["odd"] : [],
      updatedAt: new Date(Date.UTC(2026, 0, 1 + (i % 28))) };
    if (i === at && defect === "missing") delete note.uuid;
    if (i === at && defect === "duplicate") note.uuid = "u" + count;
    if (i === at && defect === "not-a-key") note.uuid = { a: 1 };
    tx.objectStore("notes").put(note);
  }
  await committed(tx);
  db.close();
}

/** Adds a note without an `id` to `notes`: the key IndexedDB's generator gives it. */
export async function add_note_without_id(name) {
  const db = await open(name);
  const tx = db.transaction("notes", "readwrite");
  const key = await result(tx.objectStore("notes").add({ uuid: "fresh", title: "fresh" }));
  await committed(tx);
  db.close();
  return key;
}
