// A file unreadable mid-restore: a backup file of three chunks, chosen through a real
// `<input type=file>` (uploaded from a path on disk), is cut to a third on disk once its first
// chunk is staged (the user picked a file that is then modified; a removable drive pulled out).
// The restore must fail with UnreadableFile in every engine, remove its staging stores, leave
// the app's data as it was, take no automatic backup, and journal the failure.
//
// The cut is made deterministic by the page itself: the restore's first progress callback (a
// chunk staged, the next not yet read) asks this test's server synchronously (a sync XHR) to
// truncate the file, so that it lands at that point on any machine, however loaded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile, mkdtemp, rm } from "node:fs/promises";
import { truncateSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newContext, openPage, hook, ENGINE } from "./setup.mjs";

// 4096 records at most make a chunk (MAX_CHUNK_RECORDS): 12,000 small records make three.
const RECORDS = 12_000;
const CHUNK_RECORDS = 4096;
const CUT = "/__faults/cut";

test(`a file cut on disk after the first of its three chunks is staged: UnreadableFile, staging removed, data unchanged, no backup, journaled (${ENGINE})`, async () => {
  const context = await newContext();
  const page = await openPage(context);
  const dir = await mkdtemp(join(tmpdir(), "rewind-faults-"));
  try {
    // "w" at version 1 with a manual backup of RECORDS records (salt 7) in its catalog, then
    // other data: the state the restore starts from. Only "items" holds records, so the file's
    // chunks are that store's three.
    const b64 = await page.evaluate(async ({ n }) => {
      if (await F.exists("w")) await F.deleteDb("w");
      const rw = await F.open("w");
      await rw.migrateTo(1);
      await F.put("w", "items", F.records(n, 7));
      const m = await rw.backup("source");
      const b = new Uint8Array(await (await rw.exportBackup(m.id)).arrayBuffer());
      await F.put("w", "items", F.records(n, 3));
      rw.close();
      let s = "";
      for (let i = 0; i < b.length; i += 32768) s += String.fromCharCode(...b.subarray(i, i + 32768));
      return btoa(s);
    }, { n: RECORDS });
    const path = join(dir, "w.rewind");
    const bytes = Buffer.from(b64, "base64");
    await writeFile(path, bytes);
    await page.setInputFiles("#upload", path);
    const cutTo = Math.floor(bytes.length / 3);
    let cuts = 0;
    hook(CUT, () => {
      cuts += 1;
      truncateSync(path, cutTo);
      return String(statSync(path).size);
    });

    const r = await page.evaluate(async ({ cut }) => {
      const before = await F.digest("w", { journal: false, version: false });
      const journalBefore = (await F.journal("w")).length;
      const ids = await F.backupIds("w");
      const rw = await F.open("w");
      const file = document.getElementById("upload").files[0];
      const calls = [];
      let answer = null;
      const onProgress = (done, total) => {
        calls.push([done, total]);
        if (calls.length > 1) return;
        // Synchronous on purpose: the restore reads its next chunk only after this returns.
        const x = new XMLHttpRequest();
        x.open("POST", cut, false);
        x.send();
        answer = `${x.status} ${x.responseText}`;
      };
      const restore = await F.failure(rw.restore(file, { onProgress }));
      const status = await rw.status();
      rw.close();
      const stores = await F.withDb("w", async (db) => [...db.objectStoreNames]);
      return {
        size: file.size, before, ids, calls, answer, restore, status, stores,
        after: await F.digest("w", { journal: false, version: false }),
        journal: (await F.journal("w")).slice(journalBefore),
        catalog: await F.catalog("w", ids),
      };
    }, { cut: CUT });
    hook(CUT, null);

    assert.equal(r.size, bytes.length, "the file chosen is the one written");
    assert.equal(cuts, 1, "the file was cut once");
    assert.equal(r.answer, `200 ${cutTo}`, "the cut was made inside the first progress callback");
    assert.deepEqual(r.calls, [[CHUNK_RECORDS, RECORDS]], "one chunk of three staged, then the restore stopped");
    assert.equal(r.restore.code, "UnreadableFile", JSON.stringify(r.restore));
    assert.match(r.restore.message, /^the file could not be read \(.+\): it was changed, moved or is still being written since it was chosen\. Nothing was changed; choose it again once it is complete\.$/);
    assert.equal(r.after, r.before, "the app's data, schema and metadata are unchanged, and no staging store is left");
    assert.deepEqual(r.stores.filter((s) => s.startsWith("__rewind_staging")), [], "no staging store is left");
    assert.equal(r.status.schemaVersion, 1);
    assert.deepEqual(r.catalog.list.map((m) => m.id), r.ids, "no automatic backup: staging comes first");
    assert.deepEqual(r.catalog.problems, []);
    assert.equal(r.journal.length, 1, `one journal entry: ${JSON.stringify(r.journal)}`);
    assert.deepEqual([r.journal[0].operation, r.journal[0].backupId], ["restore", null]);
    assert.equal(r.journal[0].error, r.restore.message, "the entry records the failure");
    console.log(`unreadable mid-restore (${ENGINE}): a ${bytes.length}-byte file of three chunks cut to ${cutTo} bytes after the first was staged → ` +
      `${r.restore.code}, staging removed, data unchanged, no backup, journaled; message: "${r.restore.message}"`);
  } finally {
    hook(CUT, null);
    await rm(dir, { recursive: true, force: true });
    await context.close();
  }
});
