// The fault tests' page: pkg/ loaded as an app loads it, the migrations the faults run, and
// helpers to seed, dump and check databases. Served from the repository root.
import init, { Rewind } from "../../pkg/rewind.js";
import { failure, shape } from "../shared/values.mjs";

const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
const txDone = (tx) => new Promise((ok, fail) => { tx.oncomplete = () => ok(); tx.onerror = () => fail(tx.error); tx.onabort = () => fail(tx.error ?? new Error("aborted")); });

/** A fault point inside the page: when `F.fault.at` matches the count of `kind`, say so on the
 * console (the test crashes or closes the page on it) and keep the main thread busy meanwhile,
 * so that the crash lands exactly there (inside a transform, a progress callback…). */
function point(kind) {
  const f = F.fault;
  f.counts[kind] = (f.counts[kind] ?? 0) + 1;
  if (f.kind === kind && f.counts[kind] === f.at) {
    say(`fault:${kind}:${f.at}`);
    const until = Date.now() + (f.stallMs ?? 300);
    while (Date.now() < until) { /* the test crashes the page now */ }
  }
  if (f.throwKind === kind && f.counts[kind] === f.throwAt) {
    if (f.how === "throw") throw new Error(`injected failure at ${kind} ${f.throwAt}`);
    return f.how;
  }
}
/** Prints `text` on the console (Playwright's console event) and keeps it in `F.said` (what a
 * WebDriver test polls for; it cannot see the console). */
function say(text) {
  console.log(text);
  F.said.push(text);
}

/** What a transform returns at an injected fault: a value that cannot be stored, a Promise. */
function bad(how, r) {
  if (how === "function") return { ...r, callback: () => 0 };
  if (how === "promise") return Promise.resolve(r);
  if (how === "key") return { ...r, id: { not: "a key" } };
  return undefined;
}

export const F = {
  fault: { counts: {} },
  said: [],
  /** Arms a fault point (`kind`: "up", "down" (transform calls), "progress"). */
  arm(kind, at, stallMs) { F.fault = { counts: {}, kind, at, stallMs }; },
  /** Makes transform call `at` of `kind` fail: `how` = "throw", or return a record holding a
   * function ("function"), a Promise ("promise"), a record whose key is not a key ("key"). */
  armFailure(kind, at, how = "throw") { F.fault = { counts: {}, throwKind: kind, throwAt: at, how }; },
  disarm() { F.fault = { counts: {} }; },

  /** Three versions: stores and indexes, then a transform and added fields, then a rename. */
  migrations() {
    return [
      { version: 1, name: "items and loose",
        up: [{ op: "createStore", store: "items", keyPath: "id" },
             { op: "createIndex", store: "items", index: "by_n", keyPath: "n" },
             { op: "createStore", store: "loose" }],
        down: [{ op: "deleteStore", store: "loose" }, { op: "deleteStore", store: "items" }] },
      { version: 2, name: "shout and count words",
        up: [{ op: "transform", store: "items", fn: (r) => { const how = point("up"); if (how) return bad(how, r); return { ...r, text: r.text.toUpperCase(), words: r.text.split(" ").length }; } },
             { op: "addField", store: "items", field: "tags", value: ["new"] },
             { op: "createIndex", store: "items", index: "by_words", keyPath: "words" }],
        down: [{ op: "deleteIndex", store: "items", index: "by_words" },
               { op: "removeField", store: "items", field: "tags" },
               { op: "transform", store: "items", fn: (r) => { const how = point("down"); if (how) return bad(how, r); r.text = r.text.toLowerCase(); delete r.words; } }] },
      { version: 3, name: "text becomes body, priority",
        up: [{ op: "renameField", store: "items", from: "text", to: "body" },
             { op: "addField", store: "items", field: "meta.priority", value: 0 },
             { op: "createIndex", store: "items", index: "by_priority", keyPath: "meta.priority" }],
        down: [{ op: "deleteIndex", store: "items", index: "by_priority" },
               { op: "removeField", store: "items", field: "meta.priority" },
               { op: "renameField", store: "items", from: "body", to: "text" }] },
    ];
  },
  open(name, options = {}) { return Rewind.open(name, F.migrations(), options); },
  point,

  /** Runs one of the operations the crash tests interrupt; progress callbacks are fault
   * points. Kept in `window.op` as { ok } or { code, message } (and in `window.opResult` once
   * settled); `F.blocked` counts the calls of onBlocked (the first also says `fault:blocked`). */
  start(op, name, options = {}) {
    F.blocked = 0;
    window.opResult = null;
    const onBlocked = () => { if (!F.blocked++) say("fault:blocked"); };
    const run = async () => {
      const rw = await F.open(name, { ...options, onBlocked });
      const onProgress = () => point("progress");
      if (op === "migrate") return rw.migrateTo(2, { onProgress });
      if (op === "rollback") return rw.rollbackTo(1, { onProgress });
      if (op === "restoreHeld") {
        await rw.status(); // lists the backups held in place as the database holds them
        const list = await rw.listBackups();
        const source = list.find((m) => m.label === "source");
        const held = list.find((m) => m.inPlace && m.label === `before restoring ${source.id}`);
        return rw.restore(held.id, { onProgress });
      }
      const source = (await rw.listBackups()).find((m) => m.label === "source");
      return rw.restore(source.id, { onProgress });
    };
    window.op = run().then((ok) => ({ ok }), (e) => ({ code: e.code, message: e.message }))
      .then((result) => { window.opResult = result; return result; });
  },
  /** Ids of the backups listed for `name`. */
  async backupIds(name) {
    const rw = await F.open(name);
    const ids = (await rw.listBackups()).map((m) => m.id);
    rw.close();
    return ids;
  },

  /** Deterministic records (`salt` makes another data set of the same shape). */
  records(n, salt = 0) {
    const words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"];
    return Array.from({ length: n }, (_, i) => ({
      id: i,
      n: (i * 7 + salt) % 101,
      text: Array.from({ length: 3 + ((i + salt) % 9) }, (_, j) => words[(i * 3 + j + salt) % 8]).join(" "),
      when: new Date(Date.UTC(2024, 0, 1) + i * 60_000 + salt),
      bytes: new Uint8Array([i & 255, (i >> 8) & 255, salt & 255]),
      nested: { deep: { i, odd: i % 2 === 1 }, list: [i, salt, "x"] },
    }));
  },
  /** A database at schema `version` holding `n` records (+ a few loose ones), via Rewind. */
  async seed(name, { n = 3000, version = 1, salt = 0 } = {}) {
    if (await F.exists(name)) await F.deleteDb(name);
    const rw = await F.open(name);
    await rw.migrateTo(1);
    await F.put(name, "items", F.records(n, salt));
    await F.put(name, "loose", ["a string", 42 + salt, [1, 2], new Map([["k", salt]])], [1, "two", [3], new Date(5)]);
    if (version > 1) await rw.migrateTo(version);
    rw.close();
  },
  async withDb(name, f) {
    const db = await req(indexedDB.open(name));
    try { return await f(db); } finally { db.close(); }
  },
  async put(name, store, records, keys) {
    return F.withDb(name, async (db) => {
      const tx = db.transaction(store, "readwrite");
      records.forEach((r, i) => tx.objectStore(store).put(r, keys?.[i]));
      await txDone(tx);
    });
  },
  /** Copies database `src` to `dst` exactly, below Rewind (same IDB version, stores, indexes,
   * keys, values, key generators), so that every run of a fault starts from the same state. */
  async clone(src, dst) {
    if (await F.exists(dst)) await F.deleteDb(dst);
    const { version, stores } = await F.withDb(src, async (db) => {
      const names = [...db.objectStoreNames];
      const tx = db.transaction(names);
      const stores = await Promise.all(names.map(async (s) => {
        const st = tx.objectStore(s);
        const indexes = [...st.indexNames].map((i) => { const x = st.index(i); return [i, x.keyPath, { unique: x.unique, multiEntry: x.multiEntry }]; });
        const [keys, values] = await Promise.all([req(st.getAllKeys()), req(st.getAll())]);
        return { s, keyPath: st.keyPath, autoIncrement: st.autoIncrement, indexes, keys, values };
      }));
      return { version: db.version, stores };
    });
    const open = indexedDB.open(dst, version);
    open.onupgradeneeded = () => {
      const db = open.result;
      for (const st of stores) {
        const os = db.createObjectStore(st.s, { keyPath: st.keyPath, autoIncrement: st.autoIncrement });
        for (const [i, kp, o] of st.indexes) os.createIndex(i, kp, o);
        st.values.forEach((v, i) => (st.keyPath === null ? os.put(v, st.keys[i]) : os.put(v)));
      }
    };
    const db = await req(open);
    db.close();
    // The catalog of `dst` may still list backups held in place in the database just replaced:
    // a read mends it, as any read of a database does, before a run counts its backups.
    const rw = await F.open(dst);
    await rw.status();
    rw.close();
  },
  async exists(name) { return (await indexedDB.databases()).some((d) => d.name === name); },
  async deleteDb(name) { await req(indexedDB.deleteDatabase(name)); },

  /** Everything in database `name`: every store (Rewind's own too) with its schema, keys and
   * values as exact shapes; Rewind's metadata and journal parsed, with times and backup ids
   * normalised (they differ between two runs of the same operation). The IDB version is kept
   * apart (`version`). */
  async dump(name) {
    if (!(await F.exists(name))) return { exists: false };
    return F.withDb(name, async (db) => {
      const names = [...db.objectStoreNames];
      const out = { exists: true, version: db.version, stores: {} };
      // Backups held in place, named by their order (their ids hold the time they were made).
      const heldIds = [...new Set(names.map((n) => n.match(/^__rewind_backup_(.+)_\d+$/)?.[1]).filter(Boolean))].sort();
      const heldName = (id) => `B${heldIds.indexOf(id)}`;
      if (!names.length) return out;
      const tx = db.transaction(names);
      for (const s of names) {
        const st = tx.objectStore(s);
        const indexes = [...st.indexNames].map((i) => { const x = st.index(i); return { name: i, keyPath: x.keyPath, unique: x.unique, multiEntry: x.multiEntry }; });
        const [keys, values] = await Promise.all([req(st.getAllKeys()), req(st.getAll())]);
        let shaped;
        if (s === "__rewind_meta") {
          // "state": the metadata; "unfinished": the entry of an upgrade the browser kept in part;
          // "backup:<id>": the manifest of a backup held in place.
          shaped = values.map((v, i) => {
            const m = JSON.parse(v);
            if (keys[i] === "unfinished") return { unfinished: { ...m, at: "T", backupId: m.backupId ? "B" : null } };
            if (String(keys[i]).startsWith("backup:")) return { held: { ...m, id: heldName(m.id), createdAt: "T", idbVersion: "V", label: m.label.replace(/ \S+$/, " B"), meta: { ...m.meta, applied: m.meta.applied.map((a) => ({ ...a, appliedAt: "T" })) } } };
            m.applied = m.applied.map((a) => ({ ...a, appliedAt: "T" }));
            return m;
          });
        } else if (s === "__rewind_journal") {
          shaped = values.map((v) => { const e = JSON.parse(v); return { ...e, at: "T", backupId: e.backupId ? "B" : null }; });
        } else {
          shaped = await F.shape(values);
        }
        // A backup held in place: its id (and time) differ between two runs.
        const named = s.replace(/^__rewind_backup_(.+)_(\d+)$/, (_, id, n) => `__rewind_backup_${heldName(id)}_${n}`);
        const keysShaped = await F.shape(s === "__rewind_meta" ? keys.map((k) => String(k).startsWith("backup:") ? `backup:${heldName(String(k).slice(7))}` : k) : keys);
        out.stores[named] = { keyPath: st.keyPath, autoIncrement: st.autoIncrement, indexes, keys: keysShaped, values: shaped };
      }
      await txDone(tx);
      return out;
    });
  },
  /** SHA-256 (hex) of the dump: for databases too big to bring out of the page. Without the
   * journal, or the IndexedDB version (a failed staged restore leaves it higher), when asked. */
  async digest(name, { journal = true, version = true } = {}) {
    const d = await F.dump(name);
    if (!journal && d.stores) delete d.stores.__rewind_journal;
    if (!version) delete d.version;
    const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(d)));
    return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("");
  },
  /** `count` records of 256 KiB of random bytes each (the browser cannot compress them). */
  noise(count, from = 100_000) {
    return Array.from({ length: count }, (_, i) => {
      const b = new Uint8Array(256 * 1024);
      for (let j = 0; j < b.length; j += 65536) crypto.getRandomValues(b.subarray(j, j + 65536));
      return { id: from + i, n: i, text: "noise", noise: b };
    });
  },
  /** The raw journal entries (not normalised). */
  async journal(name) {
    return F.withDb(name, async (db) => [...db.objectStoreNames].includes("__rewind_journal")
      ? (await req(db.transaction("__rewind_journal").objectStore("__rewind_journal").getAll())).map((v) => JSON.parse(v)) : []);
  },
  /** The backup catalog as the app sees it, checked: every listed backup's file (but those in
   * `checked`, already seen) exports and inspects to the same manifest, and the catalog's two
   * stores hold the same ids. */
  async catalog(name, checked = []) {
    const rw = await F.open(name);
    const list = await rw.listBackups();
    const problems = [];
    // A backup held in place has no file until one is made: its listing lacks the file's
    // sizes and checksums, which the file made of it has; everything else must agree.
    const facts = (m) => JSON.stringify([m.id, m.database, m.schemaVersion, m.label, m.automatic, m.meta, m.stores.map((s) => [s.schema, s.records])]);
    for (const m of list.filter((m) => !checked.includes(m.id))) {
      try {
        const file = await rw.exportBackup(m.id);
        const inspected = await rw.inspect(file);
        const same = m.inPlace ? facts(inspected) === facts(m) : JSON.stringify(inspected) === JSON.stringify(m);
        if (!same) problems.push(`${m.id}: inspect differs from the listing`);
      } catch (e) { problems.push(`${m.id}: ${e.code} ${e.message}`); }
    }
    rw.close();
    const cat = `__rewind_backups:${name}`;
    if (await F.exists(cat)) {
      const [mk, fk] = await F.withDb(cat, async (db) => {
        const tx = db.transaction(["manifests", "files"]);
        return Promise.all([req(tx.objectStore("manifests").getAllKeys()), req(tx.objectStore("files").getAllKeys())]);
      });
      // A backup held in place is listed with no file in the catalog.
      const held = list.filter((m) => m.inPlace).map((m) => m.id);
      const filed = mk.filter((k) => !held.includes(k));
      if (JSON.stringify(filed) !== JSON.stringify(fk)) problems.push(`catalog stores disagree: manifests ${filed.length} (and ${held.length} held in place), files ${fk.length}`);
    }
    return { list: list.map((m) => ({ id: m.id, automatic: m.automatic, label: m.label, schemaVersion: m.schemaVersion, records: m.stores.map((s) => [s.schema.name, s.records]) })), problems };
  },
  failure,
  shape,
  /** A held plain connection that ignores versionchange (a careless other tab). */
  async hold(name) { F.held = await req(indexedDB.open(name)); return F.held.version; },
  release() { F.held?.close(); F.held = null; },
};

await init();
window.Rewind = Rewind;
window.F = F;
document.getElementById("state").textContent = "ready";
