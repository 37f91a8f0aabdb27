// Transforms given as JavaScript functions: run on every record inside the upgrade transaction,
// with the record as it is stored; a throw or a Promise cancels the whole operation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withPage } from "./setup.mjs";

const SETUP = `
  window.base = { version: 1, name: "items",
    up: [{ op: "createStore", store: "items", keyPath: "id" }],
    down: [{ op: "deleteStore", store: "items" }] };
  window.seed = [
    { id: 1, title: "one", when: new Date(1000), tags: new Set(["a"]), bytes: new Uint8Array([1, 2]) },
    { id: 2, title: "two", when: new Date(2000), tags: new Set(), bytes: new Uint8Array([]) },
  ];
`;

test("a function transform runs on every record, returned or changed in place, both ways", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const seen = [];
      const migrations = () => [base, {
        version: 2, name: "shout",
        up: [{ op: "transform", store: "items", description: "upper-case titles", fn: (rec) => {
          seen.push({ isDate: rec.when instanceof Date, isSet: rec.tags instanceof Set, isBytes: rec.bytes instanceof Uint8Array });
          return { ...rec, title: rec.title.toUpperCase(), shouted: true };
        } }],
        down: [{ op: "transform", store: "items", fn: (rec) => { rec.title = rec.title.toLowerCase(); delete rec.shouted; } }],
      }];
      const rw = await Rewind.open("t", migrations());
      await rw.migrateTo(1);
      await T.put("t", "items", seed);
      const plan = await rw.plan(2);
      await rw.migrateTo();
      const up = await T.shape(await T.getAll("t", "items"));
      // The same definitions with new function objects: the generated names are stable, so
      // nothing has drifted.
      const again = await Rewind.open("t", migrations());
      const status = await again.status();
      await again.rollbackTo(1);
      const down = await T.shape(await T.getAll("t", "items"));
      return { seen, plan, up, down, status, seed: await T.shape(seed) };
    });
    assert.deepEqual(r.seen, [
      { isDate: true, isSet: true, isBytes: true },
      { isDate: true, isSet: true, isBytes: true },
    ], "the transform sees the stored values themselves");
    assert.deepEqual(r.plan.steps.map((s) => s.step), [
      { op: "transform", store: "items", name: "v2.up[0]", description: "upper-case titles" },
    ]);
    const record1 = r.up.v[0][1].v;
    assert.deepEqual(record1.find(([k]) => k === "title")[1], "ONE");
    assert.deepEqual(record1.find(([k]) => k === "shouted")[1], true);
    assert.deepEqual(record1.find(([k]) => k === "when")[1], { t: "Date", v: 1000 });
    assert.deepEqual(r.status.drifted, []);
    assert.equal(r.status.schemaVersion, 2);
    assert.deepEqual(r.down, r.seed, "rolled back to exactly the records that were stored");
  });
});

test("transforms by name in options.transforms; a missing function is InvalidMigration", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const m2 = { version: 2, name: "count", up: [{ op: "transform", store: "items", name: "count" }] };
      const missing = await T.failure(Rewind.open("t", [base, m2]));
      const notFn = await T.failure(Rewind.open("t", [base, m2], { transforms: { count: "nope" } }));
      const twice = await T.failure(Rewind.open("t", [base, { ...m2, up: [{ op: "transform", store: "items", name: "count", fn: (x) => x }] }],
        { transforms: { count: (x) => x } }));
      const rw = await Rewind.open("t", [base, m2], { transforms: { count: (rec) => ({ ...rec, length: rec.title.length }) } });
      await rw.migrateTo(1);
      await T.put("t", "items", [{ id: 1, title: "three" }]);
      await rw.migrateTo(2);
      return { missing, notFn, twice, items: await T.getAll("t", "items") };
    });
    assert.equal(r.missing.code, "InvalidMigration");
    assert.match(r.missing.message, /transform "count" has no function/);
    assert.equal(r.notFn.code, "InvalidMigration");
    assert.match(r.notFn.message, /options\.transforms\.count/);
    assert.equal(r.twice.code, "InvalidMigration");
    assert.match(r.twice.message, /two different functions/);
    assert.deepEqual(r.items, [{ id: 1, title: "three", length: 5 }]);
  });
});

test("a transform that throws, returns a Promise or a bad record fails as MigrationFailed and changes nothing", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const run = async (name, fn) => {
        const db = `t-${name}`;
        const rw = await Rewind.open(db, [base, {
          version: 2, name,
          up: [{ op: "addField", store: "items", field: "added", value: 1 },
               { op: "transform", store: "items", fn }],
          down: [],
        }]);
        await rw.migrateTo(1);
        await T.put(db, "items", [{ id: 1, title: "one" }, { id: 2, title: "two" }]);
        const failure = await T.failure(rw.migrateTo());
        const status = await rw.status();
        return { failure, items: await T.getAll(db, "items"), version: status.schemaVersion, journal: status.journal[0] };
      };
      return {
        throws: await run("throws", (rec) => { if (rec.id === 2) throw new TypeError("no title two"); }),
        promise: await run("promise", async (rec) => rec),
        badKey: await run("badKey", (rec) => ({ title: rec.title })),
      };
    });
    for (const [k, x] of Object.entries(r)) {
      assert.equal(x.failure.isError, true, k);
      assert.equal(x.failure.code, "MigrationFailed", `${k}: ${x.failure.message}`);
      assert.match(x.failure.message, /schema and data are exactly as before/);
      assert.deepEqual(x.items, [{ id: 1, title: "one" }, { id: 2, title: "two" }], `${k}: nothing changed`);
      assert.equal(x.version, 1);
      assert.equal(x.journal.operation, "migrate");
      assert.equal(x.journal.error, x.failure.message, `${k}: the failure is in the journal`);
    }
    assert.match(r.throws.failure.message, /record 2 \(key 2\): the transform threw TypeError: no title two/);
    assert.match(r.promise.failure.message, /returned a Promise: transforms must be synchronous/);
    assert.match(r.badKey.failure.message, /cannot be written back/);
  });
});
