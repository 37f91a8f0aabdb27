// A panic inside Rewind (forced through the tests' build: the next restore panics inside its
// upgrade, after two of its three batches) settles every Promise: the restore rejects with
// `Internal`, the upgrade is aborted so nothing of it is committed (the journal records the
// failed restore), and every later call rejects at once instead of hanging. Loaded again, the
// page finds the database as it was.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withPage, url, ENGINE } from "./setup.mjs";

const PATH = "tests/js/panic.html";

/** Before the panic: a database of 3,000 notes backed up, then half of them deleted. */
async function panicInRestore(page) {
  await page.waitForFunction(() => window.P);
  return page.evaluate(async () => {
    const rw = await P.Rewind.open("panic", P.migrations);
    await rw.migrateTo();
    await P.put("panic", Array.from({ length: 3000 }, (_, i) => ({ id: i, text: `note ${i}` })));
    const backup = await rw.backup("three thousand");
    await P.clear("panic", 1500);
    const before = await P.dump("panic");
    P.testPanicInRestore(2);
    const restore = await P.settles(rw.restore(backup.id));
    // What was still running in the instance has ended by now (its journal entry written).
    await new Promise((ok) => setTimeout(ok, 500));
    const after = await P.dump("panic");
    const status = await P.settles(rw.status(), 2000);
    const reopened = await P.settles(P.Rewind.open("panic", P.migrations), 2000);
    return { before, after, restore, status, reopened };
  });
}

/** The page loaded again (a fresh instance, as the message asks): the same restore again. */
async function afterReload(page, dumped) {
  await page.goto(url(PATH));
  await page.waitForFunction(() => window.P);
  return page.evaluate(async (dumped) => {
    const rw = await P.Rewind.open("panic", P.migrations);
    const same = (await P.dump("panic")) === dumped;
    const [backup] = (await rw.listBackups()).filter((b) => b.label === "three thousand");
    await rw.restore(backup.id);
    const notes = JSON.parse(await P.dump("panic")).stores.notes.keys.length;
    return { same, notes, version: (await rw.status()).schemaVersion };
  }, dumped);
}

test(`a panic in the middle of a restore rejects with Internal and commits nothing (${ENGINE})`, async () => {
  const { panicked, reloaded } = await withPage(async (page) => {
    const panicked = await panicInRestore(page);
    return { panicked, reloaded: await afterReload(page, panicked.after) };
  }, { path: PATH, allowErrors: true });
  const [outcome, code, message] = panicked.restore;
  assert.deepEqual([outcome, code], ["error", "Internal"], message);
  assert.match(message, /Reload the page/);
  const [before, after] = [JSON.parse(panicked.before), JSON.parse(panicked.after)];
  const journal = (d) => d.stores.__rewind_journal.values.map((e) => JSON.parse(e));
  const [journalBefore, journalAfter] = [journal(before), journal(after)];
  delete before.stores.__rewind_journal; delete after.stores.__rewind_journal;
  assert.deepEqual(after, before, "data, metadata and version exactly as before the restore");
  assert.deepEqual(journalAfter.slice(0, -1), journalBefore);
  const failed = journalAfter.at(-1);
  assert.equal(failed.operation, "restore");
  assert.match(failed.error, /aborted/, "the failed restore is journaled");
  assert.deepEqual(panicked.status.slice(0, 2), ["error", "Internal"], "later calls reject at once");
  assert.deepEqual(panicked.reopened.slice(0, 2), ["error", "Internal"]);
  assert.equal(reloaded.same, true, "loaded again, the page finds the database as it was");
  assert.deepEqual([reloaded.notes, reloaded.version], [3000, 1]);
});
