// Every operation of the JavaScript API settles in this engine (REWIND_ENGINE): none leaves its
// Promise pending. Each is raced against a bound far above what it takes; a Promise still
// pending then is a failure that names the operation, not a run that never ends.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withPage, ENGINE } from "./setup.mjs";

const SETUP = `
  window.M = [
    { version: 1, name: "items", up: [{ op: "createStore", store: "items", keyPath: "id" }],
      down: [{ op: "deleteStore", store: "items" }] },
    { version: 2, name: "labels", up: [{ op: "addField", store: "items", field: "label", value: "none" }],
      down: [{ op: "removeField", store: "items", field: "label" }] },
  ];
  /** [outcome, value or code]: "ok", "error" (with its code) or "PENDING" after ms. */
  window.settles = (promise, ms = 20000) => Promise.race([
    Promise.resolve(promise).then((v) => ["ok", v], (e) => ["error", e.code ?? String(e)]),
    new Promise((ok) => setTimeout(() => ok(["PENDING", ms]), ms)),
  ]);
`;

test(`every operation settles in ${ENGINE}, on a database with data (Blobs where the session stores them)`, async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const out = {};
      const step = async (name, p) => { const [how, v] = await settles(p); out[name] = how === "ok" ? "ok" : `${how} ${v}`; return v; };
      const rw = await step("open", Rewind.open("e", M.slice(0, 1)));
      await step("migrateTo (empty)", rw.migrateTo());
      const blobs = await T.canStoreBlobs();
      const records = Array.from({ length: 1200 }, (_, i) => ({ id: i, text: `note ${i}`, when: new Date(i) }));
      if (blobs) records.push({ id: "blob", blob: new Blob(["bytes"], { type: "text/plain" }) });
      await T.put("e", "items", records);
      await step("status", rw.status());
      await step("validate", rw.validate());
      const progress = [];
      const m = await step("backup", rw.backup("manual", { onProgress: (d, t) => progress.push([d, t]) }));
      await step("listBackups", rw.listBackups());
      const file = await step("exportBackup", rw.exportBackup(m.id));
      await step("inspect", rw.inspect(file));
      const rw2 = await step("open (newer)", Rewind.open("e", M));
      await step("plan", rw2.plan(2));
      await step("migrateTo (with data)", rw2.migrateTo());
      await step("rollbackTo", rw2.rollbackTo(1));
      await step("restore (id)", rw.restore(m.id));
      await step("restore (file)", rw.restore(file));
      await step("repair", rw.repair());
      const list = await step("listBackups (after)", rw.listBackups());
      for (const b of list) await step(`deleteBackup ${b.automatic ? "automatic" : "manual"} ${b.id}`, rw.deleteBackup(b.id));
      rw.close();
      await step("closed", rw.status().then(() => "resolved?", (e) => { if (e.code !== "Closed") throw e; }));
      const after = await T.getAll("e", "items");
      return { out, blobs, count: after.length, blob: blobs ? await after.find((x) => x.id === "blob").blob.text() : null,
        last: progress.at(-1), backups: list.length };
    });
    const notOk = Object.entries(r.out).filter(([, v]) => v !== "ok");
    assert.deepEqual(notOk, [], "every operation settled, and succeeded");
    assert.equal(r.count, r.blobs ? 1201 : 1200, "the records are all back after the restores");
    if (r.blobs) assert.equal(r.blob, "bytes", "the Blob is back, bytes and all");
    assert.deepEqual(r.last, [r.count, r.count]);
    assert.equal(r.backups, 5, "the manual backup and the automatic ones before migrate, rollback and both restores");
    assert.equal(r.blobs, ENGINE !== "webkit");
  });
});

test(`a restore of Blobs where the session cannot store them fails with a code in ${ENGINE}; nothing changes`, async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      // A real backup holding Blobs and Files (crate/tests/fixtures, made in Chromium).
      const file = await (await fetch("../../crate/tests/fixtures/notes.rewind")).blob();
      const rw = await Rewind.open("notes", []);
      const before = await settles(rw.status());
      const restore = await settles(rw.restore(file, { allowUnknownVersion: true }));
      const after = await settles(rw.status());
      return { blobs: await T.canStoreBlobs(), before: before[0], restore, after: [after[0], after[1].idbVersion] };
    });
    assert.equal(r.before, "ok");
    if (r.blobs) {
      assert.deepEqual(r.restore[0], "ok", `restored: ${r.restore}`);
      // Staged: the staging stores made at IndexedDB version 1, swapped in at 2.
      assert.deepEqual(r.after, ["ok", 2]);
    } else {
      assert.deepEqual(r.restore, ["error", "Storage"], "refused with a code, not pending");
      // WebKit lists the database whose creation was aborted, at version 0: not a database.
      assert.deepEqual(r.after, ["ok", 0], "status works after, and there is no database");
    }
  });
});
