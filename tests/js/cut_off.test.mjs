// An upgrade the browser commits part way (Firefox, when an upgrade's tab closes while it awaits
// its own requests; docs/reliability.md, Findings 0), forced through the tests' build: the
// upgrade is committed after its first data step, its metadata unwritten. Through the API:
// `status().interrupted` says so; the next migration restores the backup taken before the
// cut-off one, then runs; without that backup every operation but a restore rejects with
// `Interrupted`, changing nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withPage, ENGINE } from "./setup.mjs";

const PATH = "tests/js/panic.html";

const MIGRATIONS = [
  { version: 1, name: "notes", up: [{ op: "createStore", store: "notes", keyPath: "id" }],
    down: [{ op: "deleteStore", store: "notes" }] },
  { version: 2, name: "tags",
    up: [{ op: "addField", store: "notes", field: "tags", value: [] },
         { op: "createIndex", store: "notes", index: "by_tag", keyPath: "tags", multiEntry: true }],
    down: [{ op: "deleteIndex", store: "notes", index: "by_tag" },
           { op: "removeField", store: "notes", field: "tags" }] },
];

/** 200 notes at version 1, a migration to 2 cut off; then what `next` does. */
function cutOff(page, name, automaticBackup, next) {
  return page.evaluate(async ({ name, migrations, automaticBackup, next }) => {
    const notesOf = async () => JSON.stringify(JSON.parse(await P.dump(name)).stores.notes);
    const rw = await P.Rewind.open(name, migrations);
    await rw.migrateTo(1);
    await P.put(name, Array.from({ length: 200 }, (_, i) => ({ id: i, text: `note ${i}` })));
    const byHand = await rw.backup("by hand", { compress: false });
    const before = await notesOf();
    P.testCutOffUpgrade(1);
    await P.settles(rw.migrateTo(2, { automaticBackup }));
    P.testCutOffUpgrade(0);
    const cut = await rw.status();
    const half = await notesOf();
    const out = { before, half, interrupted: cut.interrupted, schemaVersion: cut.schemaVersion, tries: [] };
    if (next === "migrate") {
      out.tries.push(await P.settles(rw.migrateTo(2)));
    } else {
      out.tries.push(await P.settles(rw.migrateTo(2)), await P.settles(rw.rollbackTo(1)));
      out.unchanged = (await notesOf()) === half;
      out.tries.push(await P.settles(rw.restore(byHand.id)));
      out.restored = (await notesOf()) === before;
      out.tries.push(await P.settles(rw.migrateTo(2)));
    }
    const status = await rw.status();
    out.after = { interrupted: status.interrupted, schemaVersion: status.schemaVersion, journal: status.journal };
    out.notes = JSON.parse(await P.dump(name)).stores.notes.values;
    out.backups = (await rw.listBackups()).map((b) => b.label);
    return out;
  }, { name, migrations: MIGRATIONS, automaticBackup, next });
}

test(`an upgrade kept in part is reported, and the next migration undoes it from its backup, then runs (${ENGINE})`, async () => {
  const r = await withPage((page) => page.waitForFunction(() => window.P).then(() => cutOff(page, "cut-off", true, "migrate")), { path: PATH });
  assert.deepEqual([r.interrupted?.operation, r.interrupted?.from, r.interrupted?.to, r.schemaVersion], ["migrate", 1, 2, 1]);
  assert.equal(typeof r.interrupted.backupId, "string", "the backup taken before it is named");
  assert.notEqual(r.half, r.before, "the first data step was kept");
  assert.deepEqual(r.tries[0][0], "ok", JSON.stringify(r.tries[0]));
  assert.deepEqual([r.after.interrupted, r.after.schemaVersion], [null, 2]);
  assert.equal(r.notes.length, 200);
  assert.ok(r.notes.every((n, i) => n.id === i && n.text === `note ${i}` && Array.isArray(n.tags) && n.tags.length === 0));
  const [migrated, undo] = r.after.journal;
  assert.deepEqual([migrated.operation, migrated.error, undo.operation, undo.error], ["migrate", null, "restore", null]);
  assert.deepEqual([undo.undid.operation, undo.undid.from, undo.undid.to], ["migrate", 1, 2]);
  assert.ok(r.backups.includes("before undoing the interrupted migration from version 1 to 2"), r.backups.join(", "));
});

test(`without its backup, an upgrade kept in part refuses every operation with Interrupted until a restore (${ENGINE})`, async () => {
  const r = await withPage((page) => page.waitForFunction(() => window.P).then(() => cutOff(page, "cut-off-bare", false, "refused")), { path: PATH });
  assert.deepEqual([r.interrupted?.operation, r.interrupted?.backupId], ["migrate", null]);
  for (const [outcome, code, message] of r.tries.slice(0, 2)) {
    assert.deepEqual([outcome, code], ["error", "Interrupted"], message);
    assert.match(message, /restore a backup/);
  }
  assert.equal(r.unchanged, true, "the refusals changed nothing");
  assert.deepEqual(r.tries[2][0], "ok", JSON.stringify(r.tries[2]));
  assert.equal(r.restored, true, "the restore brought the notes from before back");
  assert.deepEqual(r.tries[3][0], "ok", JSON.stringify(r.tries[3]));
  assert.deepEqual([r.after.interrupted, r.after.schemaVersion], [null, 2]);
});
