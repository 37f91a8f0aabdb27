// A panic inside Rewind (forced through the tests' build) settles every Promise: the restore
// rejects with `Internal`, the app's stores and Rewind's metadata are untouched, and every later
// call rejects at once instead of hanging. Loaded again, the page finds the database as it was.
// - Panicking while it stages (its 3,000 short notes are one chunk of the file: after that
//   chunk is written, before the swap), the restore stops where it is: its staging store is
//   left, as a closed tab leaves it, and the next restore removes it and journals the
//   interrupted one.
// - Panicking inside its swap (every request of it issued), the panic hook aborts the upgrade;
//   the restore's own clean-up still runs (it waits on the aborted upgrade, not on the
//   panicked task), removes its staging and journals the failure.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withPage, url, ENGINE } from "./setup.mjs";

const PATH = "tests/js/panic.html";

/** Before the panic: a database of 3,000 notes backed up, then half of them deleted. */
async function panicInRestore(page, batches) {
  await page.waitForFunction(() => window.P);
  return page.evaluate(async (batches) => {
    const rw = await P.Rewind.open("panic", P.migrations);
    await rw.migrateTo();
    await P.put("panic", Array.from({ length: 3000 }, (_, i) => ({ id: i, text: `note ${i}` })));
    const backup = await rw.backup("three thousand");
    await P.clear("panic", 1500);
    const before = await P.dump("panic");
    P.testPanicInRestore(batches);
    const restore = await P.settles(rw.restore(backup.id));
    // What was still running in the instance has ended by now (its journal entry written).
    await new Promise((ok) => setTimeout(ok, 500));
    const after = await P.dump("panic");
    const status = await P.settles(rw.status(), 2000);
    const reopened = await P.settles(P.Rewind.open("panic", P.migrations), 2000);
    return { before, after, restore, status, reopened };
  }, batches);
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
    const dump = JSON.parse(await P.dump("panic"));
    const status = await rw.status();
    return {
      same, notes: dump.stores.notes.keys.length, stores: Object.keys(dump.stores).sort(),
      version: status.schemaVersion, journal: status.journal.map((e) => [e.operation, e.error]),
    };
  }, dumped);
}

// The test switch counts the chunks a restore writes, then its swap.
for (const [where, batches, leftover] of [["while it stages", 1, true], ["inside its swap", 2, false]])
test(`a panic in a restore ${where} rejects with Internal and changes none of the app's data (${ENGINE})`, async () => {
  const { panicked, reloaded } = await withPage(async (page) => {
    const panicked = await panicInRestore(page, batches);
    return { panicked, reloaded: await afterReload(page, panicked.after) };
  }, { path: PATH, allowErrors: true });
  const [outcome, code, message] = panicked.restore;
  assert.deepEqual([outcome, code], ["error", "Internal"], message);
  assert.match(message, /Reload the page/);
  const [before, after] = [JSON.parse(panicked.before), JSON.parse(panicked.after)];
  const journal = (d) => d.stores.__rewind_journal.values.map((e) => JSON.parse(e));
  const [journalBefore, journalAfter] = [journal(before), journal(after)];
  const staged = Object.keys(after.stores).filter((s) => s.startsWith("__rewind_staging_"));
  assert.deepEqual(staged, leftover ? ["__rewind_staging_0"] : [], "staging left only by a stopped restore");
  for (const d of [before, after]) {
    delete d.stores.__rewind_journal;
    delete d.stores.__rewind_staging_0;
    delete d.version;
  }
  assert.deepEqual(after, before, "the app's data and Rewind's metadata exactly as before the restore");
  if (leftover) {
    assert.deepEqual(journalAfter, journalBefore, "the stopped restore wrote nothing more");
  } else {
    assert.deepEqual(journalAfter.slice(0, -1), journalBefore);
    const failed = journalAfter.at(-1);
    assert.equal(failed.operation, "restore");
    assert.match(failed.error, /aborted/, "the aborted restore is journaled");
  }
  assert.deepEqual(panicked.status.slice(0, 2), ["error", "Internal"], "later calls reject at once");
  assert.deepEqual(panicked.reopened.slice(0, 2), ["error", "Internal"]);
  assert.equal(reloaded.same, true, "loaded again, the page finds the database as it was");
  assert.deepEqual([reloaded.notes, reloaded.version], [3000, 1]);
  const held = (s) => s.startsWith("__rewind_backup_");
  assert.deepEqual(reloaded.stores.filter((s) => !held(s)), ["__rewind_journal", "__rewind_meta", "notes"], "no staging is left");
  assert.equal(reloaded.stores.filter(held).length, 1, "the restore after the reload holds what it replaced");
  const [latest, earlier] = reloaded.journal;
  assert.deepEqual(latest, ["restore", null]);
  if (leftover) {
    assert.equal(earlier[0], "restore");
    assert.match(earlier[1], /interrupted before it changed anything/, "the leftover is journaled");
  } else {
    assert.doesNotMatch(earlier[1] ?? "", /interrupted/);
  }
});
