// Backups through pkg/: backup, listBackups, deleteBackup, exportBackup, inspect, restore (from
// an id and from a file), progress, retention, and the errors of damaged or foreign files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withPage, ENGINE } from "./setup.mjs";

// Defined in the page (page.evaluate runs functions there, so they travel as source).
const SETUP = `
  window.M = [
    { version: 1, name: "items", up: [{ op: "createStore", store: "items", keyPath: "id" },
                                      { op: "createStore", store: "loose" }],
      down: [{ op: "deleteStore", store: "loose" }, { op: "deleteStore", store: "items" }] },
    { version: 2, name: "labels", up: [{ op: "addField", store: "items", field: "label", value: "none" }],
      down: [{ op: "removeField", store: "items", field: "label" }] },
    { version: 3, name: "by label", up: [{ op: "createIndex", store: "items", index: "by_label", keyPath: "label" }],
      down: [{ op: "deleteIndex", store: "items", index: "by_label" }] },
  ];
`;

test("backup, list, export, inspect and restore keep every value exactly; progress is reported", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("notes", M.slice(0, 2));
      await rw.migrateTo();
      // WebKit's WebDriver sessions are ephemeral and store no Blobs (docs/engines.md).
      const blobs = await T.canStoreBlobs();
      await T.put("notes", "items", T.richRecords({ blobs }));
      await T.put("notes", "loose", ["a string", 42, [1, 2]], [1, "two", [3]]);
      const before = { items: await T.shape(await T.getAll("notes", "items")), loose: await T.shape(await T.getAll("notes", "loose")) };
      const progress = [];
      const manifest = await rw.backup("before import", { onProgress: (d, t) => progress.push([d, t]) });
      const list1 = await rw.listBackups();
      const file = await rw.exportBackup(manifest.id);
      const inspected = await rw.inspect(file);
      // Change everything, then restore by id.
      await T.withDb("notes", (db) => new Promise((ok) => {
        const tx = db.transaction(["items", "loose"], "readwrite");
        tx.objectStore("items").clear();
        tx.objectStore("items").put({ id: "new", label: "x" });
        tx.objectStore("loose").clear();
        tx.oncomplete = ok;
      }));
      const restoreProgress = [];
      const report = await rw.restore(manifest.id, { onProgress: (d, t) => restoreProgress.push([d, t]) });
      const afterId = { items: await T.shape(await T.getAll("notes", "items")), loose: await T.shape(await T.getAll("notes", "loose")) };
      const list2 = await rw.listBackups();
      // Again from the exported file, into a database that no longer exists.
      await new Promise((ok) => { const d = indexedDB.deleteDatabase("notes"); d.onsuccess = ok; });
      const fromFile = await rw.restore(file);
      const afterFile = { items: await T.shape(await T.getAll("notes", "items")), loose: await T.shape(await T.getAll("notes", "loose")) };
      const status = await rw.status();
      return {
        blobs, manifest, list1, inspected, before, afterId, afterFile, progress, restoreProgress, report, fromFile, status,
        list2: list2.map((m) => ({ id: m.id, label: m.label, automatic: m.automatic })),
        file: { isFile: file instanceof File, isBlob: file instanceof Blob, name: file.name, size: file.size, type: file.type },
      };
    });
    assert.equal(r.blobs, ENGINE !== "webkit", "Blobs are stored (and so tested) everywhere but in WebKit's WebDriver session");
    const m = r.manifest;
    assert.equal(m.label, "before import");
    assert.equal(m.automatic, false);
    assert.equal(m.database, "notes");
    assert.equal(m.schemaVersion, 2);
    assert.equal(m.formatVersion, 4, "compressed by default");
    assert.equal(typeof m.createdAt, "number");
    assert.ok(Math.abs(m.createdAt - Date.now()) < 60_000);
    assert.match(m.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(m.stores.map((s) => [s.schema.name, s.records]), [["items", 2], ["loose", 3]]);
    assert.equal(m.stores[0].schema.keyPath, "id");
    assert.equal(m.stores[1].schema.keyPath, null);
    assert.deepEqual(m.meta.applied.map((a) => a.version), [1, 2]);
    assert.deepEqual(r.list1.map((x) => x.id), [m.id]);
    assert.deepEqual(r.list1[0], m);
    assert.ok(r.progress.length > 0);
    assert.deepEqual(r.progress.at(-1), [5, 5]);
    assert.deepEqual(r.file, { isFile: true, isBlob: true, name: r.file.name, size: m.bytes, type: "application/vnd.rewind.backup" });
    assert.match(r.file.name, /^notes-v2-\d{8}T\d{6}Z\.rewind$/);
    assert.deepEqual(r.inspected, m, "inspect reads back exactly the manifest");
    assert.deepEqual(r.afterId, r.before, "restored by id: every value as it was stored");
    assert.deepEqual(r.afterFile, r.before, "restored from the file: every value as it was stored");
    const cyclic = r.before.items.v.map(([, rec]) => rec).find((rec) => rec.v.some(([k, x]) => k === "id" && x === "cyclic"));
    assert.deepEqual(cyclic.v.find(([k]) => k === "self")[1], { t: "ref", v: 1 }, "the cycle is kept");
    assert.ok(JSON.stringify(r.before).includes('"t":"bigint"'), "the rich record was compared");
    assert.deepEqual({ from: r.report.from, to: r.report.to }, { from: 2, to: 2 });
    assert.ok(r.report.backupId, "an automatic backup precedes a restore");
    assert.ok(r.restoreProgress.length > 0);
    assert.deepEqual(r.fromFile.backupId, null, "nothing to back up: the database did not exist");
    assert.deepEqual(r.list2, [
      { id: r.report.backupId, label: `before restoring ${m.id}`, automatic: true },
      { id: m.id, label: "before import", automatic: false },
    ]);
    assert.equal(r.status.schemaVersion, 2);
    assert.equal(r.status.journal[0].operation, "restore");
  });
});

test("deleteBackup, retention of automatic backups, NoSuchBackup", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("notes", M, { keepAutomaticBackups: 1 });
      await rw.migrateTo(1);
      await T.put("notes", "items", [{ id: 1 }]);
      const manual = await rw.backup();
      await rw.migrateTo(2);
      await rw.migrateTo(3);
      const list = (await rw.listBackups()).map((b) => [b.label, b.automatic]);
      await rw.deleteBackup(manual.id);
      const after = (await rw.listBackups()).length;
      return {
        label: manual.label, list, after,
        again: await T.failure(rw.deleteBackup(manual.id)),
        exp: await T.failure(rw.exportBackup("no-such-id")),
        restore: await T.failure(rw.restore("no-such-id")),
      };
    });
    assert.equal(r.label, "");
    assert.deepEqual(r.list, [["before migrating from version 2 to 3", true], ["", false]],
      "one automatic backup kept; manual ones always");
    assert.equal(r.after, 1);
    for (const f of [r.again, r.exp, r.restore]) {
      assert.equal(f.isError, true);
      assert.equal(f.code, "NoSuchBackup");
      assert.match(f.message, /no backup "(no-such-id|\d{8}T\d{6}Z-[0-9a-f]{8})"/);
    }
  });
});

test("damaged files: CorruptBackup, ChecksumMismatch, UnsupportedFormat; nothing changes", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("notes", M);
      await rw.migrateTo(2);
      await T.put("notes", "items", [{ id: 1, label: "kept" }]);
      const file = await rw.exportBackup((await rw.backup("b")).id);
      const size = file.size;
      const cases = {
        garbage: new Blob(["this is not a backup"]),
        empty: new Blob([]),
        truncated: file.slice(0, size - 40),
        // Format 3 (docs/backup-format.md): a byte of the first chunk, a byte of the root.
        flipped: await T.edited(file, (b) => { b[20] ^= 0xff; }),
        trailer: await T.edited(file, (b) => { b[size - 20] ^= 1; }),
        endMark: await T.edited(file, (b) => { b[size - 1] ^= 1; }),
        newerFormat: await T.edited(file, (b) => { b[8] = 99; }),  // newer than any format this build reads
      };
      const out = {};
      for (const [k, blob] of Object.entries(cases)) {
        out[k] = { inspect: await T.failure(rw.inspect(blob)), restore: await T.failure(rw.restore(blob)) };
      }
      out.items = await T.getAll("notes", "items");
      out.backups = (await rw.listBackups()).length;
      return out;
    });
    const expect = { garbage: "CorruptBackup", empty: "CorruptBackup", truncated: "CorruptBackup",
      flipped: "ChecksumMismatch", trailer: "ChecksumMismatch", endMark: "CorruptBackup", newerFormat: "UnsupportedFormat" };
    for (const [k, code] of Object.entries(expect)) {
      for (const op of ["inspect", "restore"]) {
        assert.equal(r[k][op].isError, true, `${k} ${op}`);
        assert.equal(r[k][op].name, "RewindError");
        assert.equal(r[k][op].code, code, `${k} ${op}: ${r[k][op].message}`);
        assert.match(r[k][op].message, /Nothing was changed/);
      }
    }
    assert.deepEqual(r.items, [{ id: 1, label: "kept" }]);
    assert.equal(r.backups, 1, "no automatic backup for a refused restore");
  });
});

test("another database's backup needs allowOtherDatabase; a newer one allowUnknownVersion", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const a = await Rewind.open("a", M);
      await a.migrateTo();
      await T.put("a", "items", [{ id: 1, label: "from a" }]);
      const fileA = await a.exportBackup((await a.backup()).id);
      const b = await Rewind.open("b", M);
      await b.migrateTo();
      const wrong = await T.failure(b.restore(fileA));
      const okOther = await b.restore(fileA, { allowOtherDatabase: true });
      const itemsB = await T.getAll("b", "items");
      const old = await Rewind.open("a", M.slice(0, 2));
      const newer = await T.failure(old.restore(fileA));
      const plainInspect = await old.inspect(fileA);
      const forced = await old.restore(fileA, { allowUnknownVersion: true });
      const status = await old.status();
      const write = await T.failure(old.migrateTo());
      const validate = await T.failure(old.validate());
      return { wrong, okOther, itemsB, newer, plainInspect, forced, status, write, validate };
    });
    assert.equal(r.wrong.code, "WrongDatabase");
    assert.match(r.wrong.message, /backup is of database "a", not "b"/);
    assert.equal(r.okOther.to, 3);
    assert.deepEqual(r.itemsB, [{ id: 1, label: "from a" }]);
    assert.equal(r.newer.code, "UnknownVersion");
    assert.match(r.newer.message, /schema version 3, newer than this app knows \(up to 2\)/);
    assert.equal(r.plainInspect.schemaVersion, 3);
    assert.equal(r.forced.to, 3);
    assert.equal(r.status.unknown, true);
    assert.equal(r.status.schemaVersion, 3);
    assert.equal(r.write.code, "UnknownVersion");
    assert.equal(r.validate.code, "UnknownVersion");
  });
});

// Format 2 files restored: tests/browser/tests/backup.rs (files the core still writes in it).
test("files of formats 1 and 2 (made by earlier Rewind, kept in users' catalogs) still inspect; format 1 restores", async () => {
  await withPage(async (page) => {
    const r = await page.evaluate(async () => {
      const out = {};
      const fetched = async (file) => (await fetch(`../../fuzz/corpus/decode_backup/${file}`)).blob();
      out.v2 = await (await Rewind.open("v2-look", [])).inspect(await fetched("v2-platform.rewind"));
      // Its attachments hold Blobs, which WebKit's WebDriver session cannot store.
      const blobs = await T.canStoreBlobs();
      for (const [file, database] of [["notes.rewind", "notes"]]) {
        const blob = await fetched(file);
        const rw = await Rewind.open(`old-${database}`, []);
        const inspected = await rw.inspect(blob);
        if (!blobs) { out[file] = { format: inspected.formatVersion, skipped: true }; continue; }
        const restored = await rw.restore(blob, { allowOtherDatabase: true, allowUnknownVersion: true });
        const counts = {};
        for (const s of inspected.stores) counts[s.schema.name] = (await T.getAll(`old-${database}`, s.schema.name)).length;
        out[file] = { format: inspected.formatVersion, listed: inspected.stores.map((s) => [s.schema.name, s.records]),
          counts, to: restored.to, schemaVersion: inspected.schemaVersion };
        rw.close();
      }
      return out;
    });
    const { v2, ...restored } = r;
    assert.equal(v2.formatVersion, 2);
    assert.equal(v2.stores[0].records, 16);
    assert.equal(r["notes.rewind"].format, 1);
    for (const f of Object.values(restored).filter((f) => !f.skipped)) {
      assert.equal(f.to, f.schemaVersion);
      assert.deepEqual(Object.entries(f.counts).sort(), [...f.listed].sort(), "every record of every store restored");
    }
  });
});

test("a record no backup can carry refuses the backup unless skipped; a restore keeps the live one or says it is missing", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const key = () => crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt"]);
      const works = async (k) => k instanceof CryptoKey && !k.extractable &&
        (await crypto.subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, k, new Uint8Array(4))).byteLength === 20;
      const rw = await Rewind.open("vault", M.slice(0, 1));
      await rw.migrateTo();
      const secret = await key();
      await T.put("vault", "items", [{ id: "a", text: "plain" }, { id: "k", secret }, { id: "z", text: "last" }]);
      const refused = await T.failure(rw.backup("all of it"));
      const refusedList = await rw.listBackups();
      const manifest = await rw.backup("without the key", { skipUnsupported: true });
      const file = await rw.exportBackup(manifest.id);
      const inspectedId = await rw.inspect(manifest.id);
      // Change a plain record; the key record stays.
      await T.put("vault", "items", [{ id: "a", text: "changed" }, { id: "b", text: "new" }]);
      const report = await rw.restore(manifest.id);
      const restored = await T.getAll("vault", "items");
      const keptWorks = await works(restored.find((x) => x.id === "k")?.secret);
      const auto = (await rw.listBackups()).find((m) => m.id === report.backupId);
      const autoFile = await rw.inspect(await rw.exportBackup(report.backupId));
      // Now without the key record: the restore says it is missing, and leaves it out.
      await T.withDb("vault", (db) => new Promise((ok) => {
        const tx = db.transaction("items", "readwrite");
        tx.objectStore("items").delete("k");
        tx.oncomplete = ok;
      }));
      const inspectedFile = await rw.inspect(file);
      await rw.restore(file);
      const withoutKey = await T.getAll("vault", "items");
      // The handle's option: automatic backups leave such records out instead of refusing.
      await T.put("vault", "items", [{ id: "k2", secret: await key() }]);
      const strict = await T.failure(rw.rollbackTo(0));
      const lenient = await Rewind.open("vault", M.slice(0, 1), { skipUnsupported: true });
      const badOption = await T.failure(rw.backup("", { skipUnsupported: "yes" }));
      const rolled = await lenient.rollbackTo(0);
      const rolledAuto = (await lenient.listBackups()).find((m) => m.id === rolled.backupId);
      const stores = await T.stores("vault");
      // The first restore's automatic backup, held in place, still holds the key record: its
      // restore carries it from there, though the live database has no such store any more.
      const heldInspected = await lenient.inspect(await lenient.exportBackup(report.backupId));
      await lenient.restore(report.backupId);
      const heldBack = await T.getAll("vault", "items");
      const heldKeyWorks = await works(heldBack.find((x) => x.id === "k")?.secret);
      return {
        refused, refusedList: refusedList.length, manifest, inspectedId, inspectedFile, keptWorks, auto, autoFile, badOption,
        restored: restored.map((x) => [x.id, x.text ?? null]), withoutKey: withoutKey.map((x) => x.id),
        strict, rolledSkipped: rolledAuto.skipped, stores,
        heldKept: heldInspected.skipped.map((s) => s.kept), heldBack: heldBack.map((x) => [x.id, x.text ?? null]), heldKeyWorks,
      };
    });
    assert.equal(r.refused.code, "UnsupportedValue");
    assert.match(r.refused.message, /store "items", record "k": it holds a CryptoKey object at \.secret/);
    assert.match(r.refused.message, /Nothing was changed/);
    assert.equal(r.refusedList, 0, "a refused backup is not listed");
    assert.deepEqual(r.manifest.skipped, [{ store: "items", key: '"k"', keyBytes: r.manifest.skipped[0].keyBytes, type: "a CryptoKey object", path: ".secret" }]);
    assert.deepEqual(r.manifest.stores.map((s) => s.records), [2, 0], "the two plain records, not the key");
    assert.deepEqual(r.inspectedId.skipped.map((s) => s.kept), [true], "the live record is there: kept");
    assert.deepEqual(r.restored, [["a", "plain"], ["k", null], ["z", "last"]], "the backup's records, the key kept, b gone");
    assert.ok(r.keptWorks, "the kept non-extractable key still encrypts");
    assert.equal(r.auto.inPlace, true, "the automatic backup before the restore is held in place");
    assert.equal(r.auto.skipped, undefined, "held in place, it keeps every record, the key too");
    assert.deepEqual(r.auto.stores.map((s) => s.records), [4, 0], "a, b, k and z as they were");
    assert.deepEqual(r.autoFile.skipped.map((s) => [s.store, s.key, s.type]), [["items", '"k"', "a CryptoKey object"]],
      "made into a file, it leaves the key out, and says so");
    assert.deepEqual(r.autoFile.stores.map((s) => s.records), [3, 0]);
    assert.deepEqual(r.inspectedFile.skipped.map((s) => s.kept), [false], "deleted since: missing");
    assert.deepEqual(r.withoutKey, ["a", "z"]);
    assert.equal(r.strict.code, "UnsupportedValue", "automatic backups refuse by default");
    assert.equal(r.badOption.code, "InvalidArgument");
    assert.deepEqual(r.rolledSkipped.map((s) => s.key), ['"k2"']);
    assert.deepEqual(r.stores, [], "rolled back to 0 once the handle allows it");
    assert.deepEqual(r.heldKept, [true], "a held backup's own store has the key record: kept");
    assert.deepEqual(r.heldBack, [["a", "changed"], ["b", "new"], ["k", null], ["z", "last"]],
      "the held backup's records, the key among them");
    assert.ok(r.heldKeyWorks, "the key carried from the held backup still encrypts");
  });
});

test("a page that replaces or deletes Blob and File after start still gets its Blobs and Files back", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("files", M.slice(0, 1));
      await rw.migrateTo();
      // WebKit's WebDriver session stores no Blobs (docs/engines.md): there the records are
      // plain, and what is checked is that backups, files and restores still work.
      const blobs = await T.canStoreBlobs();
      await T.put("files", "items", blobs ? [
        { id: "b", blob: new Blob(["blob body"], { type: "text/plain" }) },
        { id: "f", file: new File(["file body"], "f.txt", { type: "text/csv", lastModified: 11 }) },
      ] : [{ id: "b", text: "blob body" }, { id: "f", text: "file body" }]);
      const before = await T.shape(await T.getAll("files", "items"));
      const { Blob: RealBlob, File: RealFile } = globalThis;
      globalThis.Blob = function NotABlob() {};
      delete globalThis.File;
      let failed = null, inspected, file;
      try {
        const m = await rw.backup("globals gone");
        file = await rw.exportBackup(m.id);
        inspected = await rw.inspect(file);
        await T.put("files", "items", [{ id: "b", blob: null }]);
        await rw.restore(file);
      } catch (e) {
        failed = `${e.code}: ${e.message}`;
      } finally {
        globalThis.Blob = RealBlob;
        globalThis.File = RealFile;
      }
      return { failed, before, after: await T.shape(await T.getAll("files", "items")),
        records: inspected?.stores[0].records, isFile: file instanceof RealFile };
    });
    assert.equal(r.failed, null);
    assert.equal(r.records, 2);
    assert.equal(r.isFile, true, "the exported file is a real File");
    assert.deepEqual(r.after, r.before, "Blob and File back as they were, types and names included");
  });
});

// A page not served over HTTPS or from localhost has no `crypto.subtle`: every digest is then
// `sha2`'s in wasm (chunks, runs of Blob parts read as one range, a backup's parts), and the
// files are the same files.
test("without WebCrypto, backups and restores work the same, Blob parts included, and their files read with it", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("plain", M.slice(0, 1));
      await rw.migrateTo();
      const blobs = await T.canStoreBlobs();
      const bytes = (n, seed) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);
      await T.put("plain", "items", Array.from({ length: 40 }, (_, i) => ({
        id: i, text: "note ".repeat(i * 50),
        ...(blobs ? { photo: new Blob([bytes(i % 4 === 0 ? 300_000 : 3_000 + i, i)], { type: "image/png" }) } : {}),
      })));
      const shape = async () => T.shape(await T.getAll("plain", "items"));
      const before = await shape();
      const withCrypto = await rw.exportBackup((await rw.backup("with WebCrypto")).id);

      Object.defineProperty(crypto, "subtle", { configurable: true, get: () => undefined });
      const hidden = crypto.subtle === undefined;
      let failed = null, out = {};
      try {
        out.inspectedOld = (await rw.inspect(withCrypto)).stores[0].records;
        const without = await rw.exportBackup((await rw.backup("without WebCrypto")).id);
        out.inspectedNew = (await rw.inspect(without)).stores[0].records;
        await T.put("plain", "items", [{ id: 0, text: "changed" }, { id: 99, text: "new" }]);
        await rw.restore(without);
        out.afterNew = await shape();
        await T.put("plain", "items", [{ id: 1, text: "changed again" }]);
        await rw.restore(withCrypto);
        out.afterOld = await shape();
        out.without = without;
      } catch (e) {
        failed = `${e.code}: ${e.message}`;
      } finally {
        delete crypto.subtle;
      }
      // A file made without WebCrypto, read with it.
      out.inspectedBack = out.without ? (await rw.inspect(out.without)).stores[0].records : null;
      return { hidden, restored: crypto.subtle !== undefined, failed, before, ...out, without: undefined };
    });
    assert.ok(r.hidden, "crypto.subtle was hidden");
    assert.ok(r.restored, "and given back");
    assert.equal(r.failed, null);
    assert.deepEqual([r.inspectedOld, r.inspectedNew, r.inspectedBack], [40, 40, 40]);
    assert.deepEqual(r.afterNew, r.before, "restored from the file made without WebCrypto");
    assert.deepEqual(r.afterOld, r.before, "restored from the file made with it, read without");
  });
});
