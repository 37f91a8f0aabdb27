// Blocked: another tab holds a connection that ignores versionchange; a tab closes while an
// operation waits (the blocking one, the waiting one, one queued on the cross-tab lock); a
// second tab starts a conflicting operation at the same time. Every outcome must be exactly
// "before" or exactly "after" (or, for two operations, exactly one of the two serial orders).
// In every engine: over WebDriver the tabs are windows of one session (tests/faults/setup.mjs),
// and a tab that Chromium crashes is closed instead.
import { test } from "node:test";
import assert from "node:assert/strict";
import { newContext, openPage, kill, faultReached, outcome, whichOf, describeDiff, prepare, inspectW, reference, withoutJournal, KILLS } from "./setup.mjs";

const OPS = ["migrate", "rollback", "restore"];
const summary = [];

async function setUp(op) {
  const context = await newContext();
  const page = await openPage(context);
  const before = JSON.parse(await prepare(page, op));
  const { after } = await reference(page, op);
  await page.evaluate(() => F.clone("P", "w"));
  return { context, page, before, after };
}
const run = async (page, op, options = {}) => {
  await page.evaluate(({ op, options }) => { F.start(op, "w", options); }, { op, options });
  return outcome(page);
};
const ids = (page) => page.evaluate(() => F.backupIds("w"));
const settle = (ms) => new Promise((ok) => setTimeout(ok, ms));

for (const op of OPS) {
  test(`${op} while another tab ignores versionchange: Blocked, nothing changed, the abandoned upgrade never runs, the retry works`, async () => {
    const { context, page, before, after } = await setUp(op);
    const other = await openPage(context);
    await other.evaluate(() => F.hold("w"));
    const idsBefore = await ids(page);
    const t0 = Date.now();
    const r = await run(page, op, { blockTimeoutMs: 400 });
    const waited = Date.now() - t0;
    const blockedCalls = await page.evaluate(() => F.blocked);
    assert.equal(r.code, "Blocked", JSON.stringify(r));
    assert.match(r.message, /open in another tab/);
    assert.ok(blockedCalls >= 1, "onBlocked was called");
    // The backups are in another database: readable now. The app database is not, by anyone,
    // until the other tab lets go (the abandoned upgrade is queued before every open).
    const catalog = await page.evaluate((ids) => F.catalog("w", ids), idsBefore);
    assert.deepEqual(catalog.problems, []);
    // A restore stages its data first, in an upgrade of its own: blocked there, it has taken
    // no backup yet. A migration or rollback takes its backup first, and keeps it whole.
    const taken = op === "restore" ? 0 : 1;
    assert.equal(catalog.list.length, idsBefore.length + taken, taken ? "the pre-operation backup is kept whole" : "no backup before the staging that was blocked");
    const stuck = await page.evaluate(() => Promise.race([F.dump("w").then(() => "read"), new Promise((ok) => setTimeout(() => ok("waits"), 500))]));
    // The other tab lets go: the upgrade that gave up must not run now.
    await other.evaluate(() => F.release());
    await settle(300);
    let seen = await inspectW(page);
    assert.equal(whichOf(seen.dump, { before }), "before", `after the other tab let go: ${describeDiff(seen.dump, before)}`);
    const retry = await run(page, op);
    assert.ok(retry.ok, JSON.stringify(retry));
    seen = await inspectW(page);
    assert.equal(whichOf(seen.dump, { after }), "after", describeDiff(seen.dump, after));
    summary.push(`${op}: Blocked after ${waited} ms; ${taken ? "pre-operation backup whole" : "blocked while staging, no backup taken"}; a read meanwhile ${stuck}; unchanged once the other tab let go (the abandoned upgrade did not run); retry ok`);
    await context.close();
  });
}

for (const op of ["migrate", "restore"]) {
  test(`${op}: the blocking tab closes during the wait → the operation completes; the waiting tab closes → nothing changes`, async () => {
    const { context, page, before, after } = await setUp(op);
    // (a) The blocking tab is closed while the operation waits for it.
    let other = await openPage(context);
    await other.evaluate(() => F.hold("w"));
    const blocked = faultReached(page);
    const pending = run(page, op, { blockTimeoutMs: 20_000 });
    await blocked;
    await kill(other, "close");
    const done = await pending;
    assert.ok(done.ok, JSON.stringify(done));
    let seen = await inspectW(page);
    assert.equal(whichOf(seen.dump, { after }), "after", `blocking tab closed: ${describeDiff(seen.dump, after)}`);

    // (b) The waiting tab is closed (or crashes) while blocked: its upgrade never runs.
    const how = op === "migrate" ? "close" : KILLS[0];
    {
      await page.evaluate(() => F.clone("P", "w"));
      other = await openPage(context);
      await other.evaluate(() => F.hold("w"));
      const waiting = await openPage(context);
      const idsBefore = await ids(waiting);
      const reached = faultReached(waiting);
      waiting.evaluate(({ op }) => F.start(op, "w", { blockTimeoutMs: 20_000 }), { op });
      await reached;
      await kill(waiting, how);
      await other.evaluate(() => F.release());
      await settle(300);
      seen = await inspectW(other, idsBefore);
      assert.equal(whichOf(seen.dump, { before }), "before", `waiting tab ${how}: ${describeDiff(seen.dump, before)}`);
      assert.deepEqual(seen.catalog.problems, []);
      const retry = await run(other, op);
      assert.ok(retry.ok, `after the waiting tab ${how}: ${JSON.stringify(retry)}`);
      seen = await inspectW(other);
      assert.equal(whichOf(seen.dump, { after }), "after", describeDiff(seen.dump, after));
      await other.close();
    }

    // (c) A tab queued on the cross-tab lock behind a running operation is closed.
    await page.evaluate(() => F.clone("P", "w"));
    const queued = await openPage(context);
    const first = run(page, op);
    await settle(50);
    queued.evaluate(({ op }) => F.start(op, "w"), { op });
    await settle(100);
    await kill(queued, "close");
    assert.ok((await first).ok);
    seen = await inspectW(page);
    assert.equal(whichOf(seen.dump, { after }), "after", `queued tab closed: ${describeDiff(seen.dump, after)}`);
    const lockFree = await page.evaluate(() => Promise.race([F.open("w").then((rw) => rw.backup("lock is free")).then(() => true),
      new Promise((ok) => setTimeout(() => ok(false), 5000))]));
    assert.ok(lockFree, "the lock was released by the closed tab");
    summary.push(`${op}: blocking tab closed → completed; waiting tab ${how === "close" ? "closed" : "crashed"} → unchanged, retry ok; queued tab closed → first completed, lock free`);
    await context.close();
  });
}

test("two tabs start conflicting operations at once: the result is exactly one serial order", async () => {
  const context = await newContext();
  const a = await openPage(context);
  const b = await openPage(context);
  await prepare(a, "restore"); // "w": version 1, other data, a backup "source"; P its copy
  // The two serial orders, on copies: migrate then restore, restore then migrate.
  const serial = {};
  for (const [name, order] of [["migrate, then restore", ["migrate", "restore"]], ["restore, then migrate", ["restore", "migrate"]]]) {
    await a.evaluate(() => F.clone("P", "w"));
    for (const op of order) assert.ok((await run(a, op)).ok);
    serial[name] = (await inspectW(a)).dump;
  }
  const seenOrders = {};
  const offsets = [0, 0, 40, 250, 0, 0, 40, 250];
  for (const [i, offset] of offsets.entries()) {
    await a.evaluate(() => F.clone("P", "w"));
    // Alternately: which tab starts, and which operation starts first.
    const [first, second] = i % 2 ? [b, a] : [a, b];
    const [op1, op2] = i % 4 < 2 ? ["migrate", "restore"] : ["restore", "migrate"];
    const p1 = run(first, op1);
    await settle(offset);
    const p2 = run(second, op2);
    const [r1, r2] = await Promise.all([p1, p2]);
    assert.ok(r1.ok && r2.ok, `${JSON.stringify(r1)} ${JSON.stringify(r2)}`);
    const seen = await inspectW(a);
    const which = whichOf(seen.dump, serial);
    assert.ok(which, `offset ${offset}: neither order: ${describeDiff(seen.dump, serial["migrate, then restore"])} / ${describeDiff(seen.dump, serial["restore, then migrate"])}`);
    assert.deepEqual(seen.catalog.problems, []);
    seenOrders[which] = (seenOrders[which] ?? 0) + 1;
  }
  // The same operation started in two tabs at once (a double start): it runs once.
  await prepare(a, "migrate");
  const { after } = await reference(a, "migrate");
  let doubles = 0;
  for (const offset of [0, 30]) {
    await a.evaluate(() => F.clone("P", "w"));
    const idsBefore = await ids(a);
    await a.evaluate(() => F.disarm());
    await b.evaluate(() => F.disarm());
    const pa = run(a, "migrate");
    await settle(offset);
    const pb = run(b, "migrate");
    const [ra, rb] = await Promise.all([pa, pb]);
    const calls = (await a.evaluate(() => F.fault.counts.up ?? 0)) + (await b.evaluate(() => F.fault.counts.up ?? 0));
    assert.ok(ra.ok && rb.ok, `${JSON.stringify(ra)} ${JSON.stringify(rb)}`);
    assert.equal(calls, 1500, "the transform ran once per record in all");
    const seen = await inspectW(a, idsBefore);
    // The second one finds nothing to do: no upgrade and nothing journaled, so data, schema,
    // metadata and even the IDB version are exactly as after one run.
    assert.equal(whichOf(withoutJournal(seen.dump), { after: withoutJournal(after) }), "after", describeDiff(seen.dump, after));
    assert.deepEqual(seen.journal.slice(-1).map((e) => [e.from, e.to]), [[1, 2]]);
    assert.ok(!seen.journal.some((e) => e.from === e.to), "no \"migrate 2 → 2\" entry");
    const newIds = seen.catalog.list.map((m) => m.id).filter((id) => !idsBefore.includes(id));
    assert.equal(newIds.length, 1, "one pre-operation backup");
    assert.ok(seen.journal.every((e) => e.error === null));
    doubles++;
  }
  summary.push(`conflicting tabs: migrate + restore at once ${offsets.length} times (either first, 0–250 ms apart) → ${JSON.stringify(seenOrders)}, never a mix; double migrate ${doubles} times → ran once`);
  await context.close();
  console.log(`blocked and concurrent tabs:\n${summary.map((s) => `  ${s}`).join("\n")}`);
});
