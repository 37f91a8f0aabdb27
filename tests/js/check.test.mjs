// Apps test their own history (Liquibase's update-testing-rollback): `Rewind.checkMigrations`
// runs every migration up, down and up again over sample records in a scratch IndexedDB
// database, reports per migration whether `down` gave back what was there (and the first
// record that did not come back), and deletes the scratch database, also after a failing step.
import { test } from "node:test";
import assert from "node:assert/strict";
import { assertCode, withPage } from "./setup.mjs";

const SETUP = `
  window.C = {
    m1: { version: 1, name: "notes",
      up: [{ op: "createStore", store: "notes", keyPath: "id" },
           { op: "createIndex", store: "notes", index: "by_title", keyPath: "title" },
           { op: "createStore", store: "settings" }],
      down: [{ op: "deleteStore", store: "settings" }, { op: "deleteStore", store: "notes" }] },
    m2: { version: 2, name: "text",
      up: [{ op: "renameField", store: "notes", from: "body", to: "text" },
           { op: "addField", store: "notes", field: "tags", value: [] },
           { op: "createIndex", store: "notes", index: "by_tag", keyPath: "tags", multiEntry: true }],
      down: [{ op: "deleteIndex", store: "notes", index: "by_tag" },
             { op: "removeField", store: "notes", field: "tags" },
             { op: "renameField", store: "notes", from: "text", to: "body" }] },
    // Loses the bodies on the way down: the schema comes back, the values do not.
    broken: { version: 2, name: "text, down drops it",
      up: [{ op: "renameField", store: "notes", from: "body", to: "text" }],
      down: [{ op: "removeField", store: "notes", field: "text" }] },
    m3: { version: 3, name: "word counts",
      up: [{ op: "transform", store: "notes", name: "count" }],
      down: [{ op: "transform", store: "notes", name: "uncount" }] },
    transforms: {
      count: (r) => { r.words = r.text.split(" ").length; },
      uncount: (r) => { delete r.words; },
    },
    sample: {
      notes: [{ id: 1, title: "one", body: "a b" }, { id: 2, title: "two", body: "c d e", meta: { pinned: true } }],
      settings: [{ theme: "dark" }, "plain value"],
    },
    /** The origin's databases, by name. */
    async names() { return (await indexedDB.databases()).map((d) => d.name).sort(); },
    scratch: (names) => names.filter((n) => n.startsWith("__rewind_check__")),
  };
`;


test("a correct history passes, and the scratch database is gone afterwards", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      // An app database of the same origin, which the check must not touch.
      await (await Rewind.open("app", [C.m1])).migrateTo();
      await T.put("app", "notes", [{ id: 7, title: "kept", body: "x" }]);
      const before = await C.names();
      const report = await Rewind.checkMigrations([C.m1, C.m2, C.m3], { sample: C.sample, transforms: C.transforms });
      return { before, report, after: await C.names(), app: await T.getAll("app", "notes") };
    });
    assert.equal(r.report.passed, true, JSON.stringify(r.report, null, 1));
    assert.deepEqual(r.report.migrations.map((m) => [m.version, m.name, m.passed, m.irreversible]),
      [[1, "notes", true, false], [2, "text", true, false], [3, "word counts", true, false]]);
    for (const m of r.report.migrations) {
      assert.deepEqual([m.schemaProblems, m.firstDifference, m.error], [[], null, null], m.name);
    }
    assert.deepEqual(r.after, r.before, "no database left behind, none added or removed");
    assert.deepEqual(r.app, [{ id: 7, title: "kept", body: "x" }], "the app's database untouched");
  });
});

test("a down that loses a field's values is reported with its first differing record", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const report = await Rewind.checkMigrations([C.m1, C.broken], { sample: C.sample });
      return { report, scratch: C.scratch(await C.names()) };
    });
    assert.equal(r.report.passed, false);
    const [first, second] = r.report.migrations;
    assert.equal(first.passed, true);
    assert.equal(second.passed, false);
    assert.deepEqual(second.schemaProblems, [], "the schema came back");
    assert.equal(second.error, null);
    assert.deepEqual(second.firstDifference, {
      store: "notes", key: 1,
      before: { id: 1, title: "one", body: "a b" },
      after: { id: 1, title: "one" },
    });
    assert.deepEqual(r.scratch, []);
  });
});

test("a step that fails is reported, the walk stops, and the scratch database is still deleted", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const throwing = { ...C.transforms, uncount: () => { throw new Error("no way back"); } };
      const down = await Rewind.checkMigrations([C.m1, C.m2, C.m3], { sample: C.sample, transforms: throwing });
      const afterDown = C.scratch(await C.names());
      // A sample the store refuses (no in-line key): the whole check rejects.
      const badKey = await T.failure(Rewind.checkMigrations([C.m1, C.m2], { sample: { notes: [{ title: "no id" }] } }));
      // A sample that is not JSON: refused by name and place, before anything is made.
      const notJson = await T.failure(Rewind.checkMigrations([C.m1], { sample: { notes: [{ id: 1, n: -Infinity }] } }));
      return { down, afterDown, badKey, afterBadKey: C.scratch(await C.names()), notJson };
    });
    assertCode(r.notJson, "InvalidArgument", "a sample value that is not JSON");
    assert.match(r.notJson.message, /the number -Infinity/);
    assert.match(r.notJson.message, /options\.sample\.notes\[0\]\.n/);
    assert.equal(r.down.passed, false);
    assert.deepEqual(r.down.migrations.map((m) => m.passed), [true, true, false]);
    assert.match(r.down.migrations[2].error, /^down: .*no way back/);
    assert.deepEqual(r.afterDown, [], "deleted after a failing step");
    assertCode(r.badKey, "MigrationFailed", "a sample record without its key");
    assert.match(r.badKey.message, /sample records of store "notes"/);
    assert.deepEqual(r.afterBadKey, [], "deleted after the check failed");
  });
});

test("the demo app's history passes except the empty meta version 3's down leaves", async () => {
  await withPage(async (page) => {
    const r = await page.evaluate(async () => {
      const { count_words } = await import("../../web/demo/transforms.js");
      const notes = [1, 2, 3, 4].map((i) => ({ id: i, notebookId: "nb", title: "t" + i, body: "one two" }));
      const report = await Rewind.checkMigrations(await T.demoMigrations(), {
        sample: { notes, notebooks: [{ id: "nb", name: "Inbox" }] },
        transforms: { count_words },
      });
      return { report, scratch: (await indexedDB.databases()).filter((d) => d.name.startsWith("__rewind_check__")) };
    });
    const byVersion = Object.fromEntries(r.report.migrations.map((m) => [m.version, m]));
    assert.deepEqual(Object.keys(byVersion).map(Number), [1, 2, 3, 4, 5]);
    for (const v of [1, 2, 5]) assert.equal(byVersion[v].passed, true, JSON.stringify(byVersion[v]));
    assert.equal(byVersion[4].irreversible, true, "version 4 has no down: run up only");
    assert.equal(byVersion[4].error, null);
    // Known and kept (README, "Testing your history's rollbacks"): only the empty meta.
    const v3 = byVersion[3];
    assert.equal(v3.passed, false);
    assert.deepEqual([v3.schemaProblems, v3.error], [[], null]);
    assert.deepEqual(v3.firstDifference, {
      store: "notes", key: 1,
      before: { id: 1, notebookId: "nb", title: "t1", body: "one two", tags: [] },
      after: { id: 1, notebookId: "nb", title: "t1", body: "one two", tags: [], meta: {} },
    });
    assert.equal(r.report.passed, false);
    assert.deepEqual(r.scratch, []);
  });
});

test("bad arguments reject with a code, before anything is opened", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const f = (...args) => T.failure(Rewind.checkMigrations(...args));
      const out = {
        options: await f([C.m1], "sample"),
        unknownOption: await f([C.m1], { samples: {} }),
        sampleArray: await f([C.m1], { sample: [] }),
        unknownStore: await f([C.m1], { sample: { tasks: [] } }),
        notArray: await f([C.m1], { sample: { notes: { id: 1 } } }),
        date: await f([C.m1], { sample: { notes: [{ id: 1, at: new Date() }] } }),
        nan: await f([C.m1], { sample: { notes: [{ id: NaN }] } }),
        instance: await f([C.m1], { sample: { notes: [new (class Note { constructor() { this.id = 1; } })()] } }),
        undef: await f([C.m1], { sample: { notes: [{ id: 1, x: undefined }] } }),
        migrations: await f("not migrations"),
        noTransform: await f([C.m1, C.m2, C.m3], { sample: C.sample }),
        transforms: await f([C.m1], { transforms: 3 }),
      };
      out.scratch = C.scratch(await C.names());
      return out;
    });
    for (const k of ["options", "unknownOption", "sampleArray", "unknownStore", "notArray", "date", "nan", "instance", "undef"]) {
      assertCode(r[k], "InvalidArgument", k);
    }
    assert.match(r.unknownStore.message, /"tasks", which no migration creates \(stores: notes, settings\)/);
    assert.match(r.date.message, /options\.sample\.notes\[0\]\.at must be JSON/);
    assert.match(r.notArray.message, /options\.sample\.notes must be an array/);
    assertCode(r.migrations, "InvalidMigration", "migrations not an array");
    assertCode(r.noTransform, "InvalidMigration", "a transform without its function");
    assertCode(r.transforms, "InvalidMigration", "transforms not an object (as Rewind.open says)");
    assert.deepEqual(r.scratch, []);
  });
});
