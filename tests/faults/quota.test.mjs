// Quota: the origin's quota is limited (CDP Storage.overrideQuotaForOrigin) so that a backup,
// a migration's pre-operation backup and a restore run out of space. Each must fail with
// QuotaExceeded and a clear message, leave the app's data exactly as it was, and list no
// partial backup.
import { test } from "node:test";
import assert from "node:assert/strict";
import { newContext, openPage, chromiumOnly } from "./setup.mjs";

const QUOTA = 3_000_000;
const summary = [];
let restoreMessage;

test("no room for a backup, nor for a migration's or a rollback's automatic backup: QuotaExceeded, data intact, nothing listed", chromiumOnly("CDP (Storage.overrideQuotaForOrigin)"), async () => {
  const context = await newContext({ quota: QUOTA });
  const page = await openPage(context);
  const r = await page.evaluate(async () => {
    await F.seed("q", { n: 200, version: 1 });
    // 2 MiB of records: room for them, not for a 2 MiB backup besides.
    await F.put("q", "items", F.noise(8));
    const before = await F.digest("q");
    const beforeData = await F.digest("q", { journal: false });
    const journalBefore = (await F.journal("q")).length;
    const rw = await F.open("q");
    const out = { before, beforeData };
    out.backup = await F.failure(rw.backup("too big"));
    out.afterBackup = await F.digest("q");
    out.migrate = await F.failure(rw.migrateTo(2));
    out.afterMigrate = await F.digest("q", { journal: false });
    out.catalog = await F.catalog("q");
    out.journal = (await F.journal("q")).slice(journalBefore);
    out.status = await rw.status();
    out.estimate = await navigator.storage.estimate();
    return out;
  });
  for (const k of ["backup", "migrate"]) {
    assert.equal(r[k].code, "QuotaExceeded", `${k}: ${JSON.stringify(r[k])}`);
    assert.match(r[k].message, /no room for this backup.*no partial backup was kept/);
  }
  assert.equal(r.afterBackup, r.before, "the data after the failed backup");
  assert.equal(r.afterMigrate, r.beforeData, "the data after the failed migration");
  // The migration that did not start is journaled with the reason when a journal entry still
  // fits; whether it does depends on when the browser gives the failed backup's space back
  // (both seen here). Never anything else.
  assert.ok(r.journal.length <= 1, JSON.stringify(r.journal));
  for (const e of r.journal) {
    assert.deepEqual([e.operation, e.from, e.to, e.backupId], ["migrate", 1, 2, null]);
    assert.match(e.error, /^the automatic backup before it failed, so nothing was changed: the browser has no room for this backup/);
  }
  assert.equal(r.status.schemaVersion, 1);
  assert.deepEqual(r.catalog, { list: [], problems: [] }, "no backup listed, none half-written");
  summary.push(`backup and migrate over a ${QUOTA / 1e6} MB quota with 2 MiB of data: QuotaExceeded both, data unchanged, 0 backups listed (the migration ${r.journal.length ? "journaled as not started" : "not journaled: no room even for that"})`);
  await context.close();
});

// A backup of "q" made where there is room: `n` records and `noise` quarter-MiB records.
async function backupFile({ n, noise }) {
  const roomy = await newContext();
  const maker = await openPage(roomy);
  const b64 = await maker.evaluate(async ({ n, noise }) => {
    await F.seed("q", { n, version: 1 });
    if (noise) await F.put("q", "items", F.noise(noise));
    const rw = await F.open("q");
    const m = await rw.backup("big");
    const file = await rw.exportBackup(m.id);
    const b = new Uint8Array(await file.arrayBuffer());
    let s = "";
    for (let i = 0; i < b.length; i += 32768) s += String.fromCharCode(...b.subarray(i, i + 32768));
    return btoa(s);
  }, { n, noise });
  await roomy.close();
  return Buffer.from(b64, "base64");
}

// Restores `bytes` into "q" (seeded with `n` records and `noise` quarter-MiB records) under
// the quota; what changed, the catalog and the journal.
async function restoreUnderQuota(bytes, { n, noise }) {
  const context = await newContext({ quota: QUOTA });
  const page = await openPage(context);
  await page.evaluate(async ({ n, noise }) => {
    await F.seed("q", { n, version: 1 });
    if (noise) await F.put("q", "items", F.noise(noise));
  }, { n, noise });
  await page.setInputFiles("#upload", { name: "q-big.rewind", mimeType: "application/octet-stream", buffer: bytes });
  const r = await page.evaluate(async () => {
    // Staged, a failed restore may leave the IndexedDB version higher, and nothing else changed.
    const beforeData = await F.digest("q", { journal: false, version: false });
    const journalBefore = (await F.journal("q")).length;
    const rw = await F.open("q");
    const file = document.getElementById("upload").files[0];
    const restore = await rw.restore(file).then((report) => ({ ok: true, report }), (e) => ({ code: e.code, message: e.message }));
    return {
      size: file.size, beforeData, restore,
      afterData: await F.digest("q", { journal: false, version: false }),
      journal: (await F.journal("q")).slice(journalBefore), catalog: await F.catalog("q"),
      status: await rw.status(),
    };
  });
  await context.close();
  return r;
}

test("no room for the restored data: QuotaExceeded while staging, before any backup; data intact, nothing listed, failure journaled", chromiumOnly("CDP (Storage.overrideQuotaForOrigin)"), async () => {
  // A 3.5 MB file into a 3 MB quota: its staging runs out of room.
  const r = await restoreUnderQuota(await backupFile({ n: 10, noise: 14 }), { n: 300, noise: 0 });
  assert.equal(r.restore.code, "QuotaExceeded", JSON.stringify(r.restore));
  assert.match(r.restore.message, /room|space/);
  assert.equal(r.afterData, r.beforeData, "the app's data, schema and metadata are unchanged, no staging store left");
  assert.deepEqual(r.catalog, { list: [], problems: [] }, "no automatic backup: staging comes first");
  assert.equal(r.journal.length, 1, "one journal entry");
  assert.equal(r.journal[0].operation, "restore");
  assert.equal(r.journal[0].backupId, null);
  assert.match(r.journal[0].error, /room|space/, "that records the failure");
  summary.push(`restore of a ${(r.size / 1e6).toFixed(1)} MB file into a ${QUOTA / 1e6} MB quota: ${r.restore.code} while staging, ` +
    `data unchanged, no backup taken, failure journaled; message: "${r.restore.message}"`);
  restoreMessage = r.restore.message;
});

test("room for the restored data but not for a copy of what it replaces: the restore runs, what it replaced held in place as its automatic backup", chromiumOnly("CDP (Storage.overrideQuotaForOrigin)"), async () => {
  // A small file into a database holding 2 MiB under a 3 MB quota: staging fits, a 2 MiB
  // copy besides would not (until 2026-12-01 the restore was refused with QuotaExceeded here).
  const r = await restoreUnderQuota(await backupFile({ n: 10, noise: 0 }), { n: 300, noise: 8 });
  assert.equal(r.restore.ok, true, JSON.stringify(r.restore));
  assert.notEqual(r.afterData, r.beforeData, "restored");
  assert.deepEqual(r.catalog.problems, [], "the held backup is made into a file that inspects as listed");
  assert.deepEqual(r.catalog.list.map((m) => [m.automatic, m.records]), [[true, [["items", 308], ["loose", 4]]]],
    "listed: the 300 records and 8 quarter-MiB ones it replaced");
  assert.equal(r.status.schemaVersion, 1);
  assert.deepEqual(r.journal.map((e) => [e.operation, e.error, e.backupId]), [["restore", null, r.restore.report.backupId]]);
  assert.equal(r.catalog.list[0].id, r.restore.report.backupId);
  summary.push(`restore of a ${(r.size / 1e3).toFixed(0)} KB file into a database of 2 MiB under a ${QUOTA / 1e6} MB quota: ` +
    `done, its automatic backup held in place (no copy, no room needed), listed and made into a file on demand`);
  console.log(`quota:\n${summary.map((s) => `  ${s}`).join("\n")}`);
});

// A restore that runs out of space says the restore had no room (it once reported the
// pre-operation backup's text, "no room for this backup: it needs about 0 more bytes";
// docs/reliability.md, finding 1).
test("a restore out of space says that the restore had no room, not a backup needing 0 bytes", chromiumOnly("CDP (Storage.overrideQuotaForOrigin)"), () => {
  assert.ok(restoreMessage, "the restore test ran");
  assert.doesNotMatch(restoreMessage, /needs about 0 more bytes/);
  assert.match(restoreMessage, /restor/i);
});
