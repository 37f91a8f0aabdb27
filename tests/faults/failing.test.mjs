// Failing migration code: a transform that throws (or returns a record that cannot be stored,
// a Promise, a record with a bad key) on the N-th record, for several N, in a migration and in
// a rollback. Each time: MigrationFailed naming the record, the database exactly as before but
// for one journal entry that records the failure, and the pre-operation backup kept whole.
import { test } from "node:test";
import assert from "node:assert/strict";
import { newContext, openPage, whichOf, describeDiff, prepare, inspectW, reference, withoutJournal } from "./setup.mjs";

const CASES = {
  migrate: [["throw", 1], ["throw", 2], ["throw", 500], ["throw", 1000], ["throw", 1499], ["throw", 1500],
            ["function", 750], ["promise", 3], ["key", 1500]],
  rollback: [["throw", 1], ["throw", 2], ["throw", 750], ["throw", 1500], ["function", 1], ["promise", 1500], ["key", 600]],
};
const KIND = { migrate: "up", rollback: "down" };
const PATTERN = {
  throw: /injected failure/, function: /cannot be written back|could not be cloned|DataCloneError/i,
  promise: /Promise/, key: /cannot be written back|DataError|key/i,
};
const tally = {};

for (const op of ["migrate", "rollback"]) {
  test(`a ${op} whose transform fails on the N-th record changes nothing (${CASES[op].map(([h, n]) => `${h} at ${n}`).join(", ")})`, async () => {
    const context = await newContext();
    const page = await openPage(context);
    const before = JSON.parse(await prepare(page, op));
    const { after } = await reference(page, op);
    const failures = [];
    let journalEntries = 0;
    for (const [how, n] of CASES[op]) {
      const label = `${op}, ${how} at record ${n}`;
      const r = JSON.parse(await page.evaluate(async ({ op, kind, how, n }) => {
        await F.clone("P", "w");
        const ids = await F.backupIds("w");
        F.armFailure(kind, n, how);
        F.start(op, "w");
        const result = await window.op;
        const calls = F.fault.counts[kind];
        F.disarm();
        return JSON.stringify({ result, calls, ids });
      }, { op, kind: KIND[op], how, n }));
      const seen = await inspectW(page, r.ids);
      if (r.result.code !== "MigrationFailed") { failures.push(`${label}: ${JSON.stringify(r.result)}`); continue; }
      if (!r.result.message.includes(`record ${n} `)) failures.push(`${label}: the message does not name record ${n}: ${r.result.message}`);
      if (!PATTERN[how].test(r.result.message)) failures.push(`${label}: the message does not say why: ${r.result.message}`);
      if (r.calls !== n) failures.push(`${label}: the transform ran ${r.calls} times`);
      // Everything but the journal exactly as before; the journal one entry longer.
      if (!whichOf(withoutJournal(seen.dump), { before: withoutJournal(before) }))
        failures.push(`${label}: changed: ${describeDiff(seen.dump, before)}`);
      const journal = seen.dump.stores.__rewind_journal.values;
      const beforeJournal = before.stores.__rewind_journal.values;
      if (JSON.stringify(journal.slice(0, -1)) !== JSON.stringify(beforeJournal)) failures.push(`${label}: earlier journal entries changed`);
      const last = seen.journal.at(-1);
      const newIds = seen.catalog.list.map((m) => m.id).filter((id) => !r.ids.includes(id));
      const [from, to] = op === "migrate" ? [1, 2] : [2, 1];
      if (journal.length !== beforeJournal.length + 1 || last.operation !== op || last.from !== from || last.to !== to ||
          !last.error?.includes(`record ${n} `) || newIds.length !== 1 || last.backupId !== newIds[0])
        failures.push(`${label}: the journal does not record the failure: ${JSON.stringify(last)} (new backups ${newIds})`);
      else journalEntries++;
      if (seen.catalog.problems.length) failures.push(`${label}: ${seen.catalog.problems}`);
    }
    // Once the code is fixed, the same operation runs and gives exactly the uninterrupted result.
    const retry = await page.evaluate(async ({ op }) => { F.start(op, "w"); return window.op; }, { op });
    const done = (await inspectW(page)).dump;
    if (!retry.ok || !whichOf(withoutJournal(done), { after: withoutJournal(after) })) failures.push(`retry: ${JSON.stringify(retry)} ${describeDiff(done, after)}`);
    await context.close();
    tally[op] = CASES[op].length;
    console.log(`failing transforms: ${op} ${CASES[op].length} runs (${CASES[op].map(([h, n]) => `${h}@${n}`).join(" ")}): ` +
      `MigrationFailed and unchanged ${CASES[op].length - failures.length}, failure journaled ${journalEntries}; failed ${failures.length}`);
    assert.deepEqual(failures, []);
  });
}
