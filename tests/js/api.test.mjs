// The migration surface of pkg/ as a JavaScript app uses it: open, status, plan, migrateTo,
// rollbackTo, validate, repair, close, and transforms given as functions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withPage } from "./setup.mjs";

test("the demo migrations (the JSON files) run from JavaScript: status, plan, migrate, rollback, validate", async () => {
  await withPage(async (page) => {
    const r = await page.evaluate(async () => {
      const migrations = await T.demoMigrations();
      const progress = [];
      const rw = await Rewind.open("notes", migrations, {
        keepAutomaticBackups: 5,
        transforms: {
          count_words: (note) => {
            note.meta = { ...(note.meta ?? {}), wordCount: (note.content ?? "").split(/\s+/).filter(Boolean).length };
          },
        },
      });
      const fresh = await rw.status();
      const plan2 = await rw.plan(2);
      const to2 = await rw.migrateTo(2);
      await T.put("notes", "notebooks", [{ id: "nb1", name: "Home" }]);
      await T.put("notes", "notes", [
        { notebookId: "nb1", title: "a", body: "one two three", meta: { rating: 4 }, when: new Date(5) },
        { notebookId: "nb1", title: "b", body: "four", tags: ["x"] },
      ]);
      const planAll = await rw.plan(5);
      const toLatest = await rw.migrateTo(undefined, { onProgress: (done, total) => progress.push([done, total]) });
      const notes = await T.getAll("notes", "notes");
      const atLatest = await rw.status();
      const valid = await rw.validate();
      const planBack = await rw.plan(4);
      const back = await rw.rollbackTo(4, { onProgress: () => {} });
      const stores3 = await T.stores("notes");
      const notes3 = await T.getAll("notes", "notes");
      const status3 = await rw.status();
      return {
        name: rw.name, latestVersion: rw.latestVersion, fresh, plan2, to2, planAll, toLatest, progress,
        notes: notes.map((n) => ({ ...n, whenIsDate: n.when instanceof Date, when: n.when?.getTime() })),
        atLatest, valid, planBack, back, stores3, notes3, status3,
        backups: (await rw.listBackups()).map((m) => ({ label: m.label, automatic: m.automatic })),
      };
    });
    assert.equal(r.name, "notes");
    assert.equal(r.latestVersion, 5);
    assert.deepEqual(
      { schemaVersion: r.fresh.schemaVersion, latestVersion: r.fresh.latestVersion, idbVersion: r.fresh.idbVersion,
        applied: r.fresh.applied, pending: r.fresh.pending, drifted: r.fresh.drifted, unknown: r.fresh.unknown,
        journal: r.fresh.journal },
      { schemaVersion: 0, latestVersion: 5, idbVersion: 0, applied: [], pending: [1, 2, 3, 4, 5], drifted: [],
        unknown: false, journal: [] });

    assert.equal(r.plan2.from, 0);
    assert.equal(r.plan2.to, 2);
    assert.equal(r.plan2.direction, "up");
    assert.equal(r.plan2.steps.length, 9);
    assert.deepEqual(r.plan2.steps[0], {
      version: 1, migration: "notebooks, notes and settings",
      description: 'create store "notebooks" with key path "id"',
      step: { op: "createStore", store: "notebooks", keyPath: "id" },
    });
    assert.deepEqual(r.plan2.effects.storesCreated, ["notebooks", "notes", "settings"]);
    assert.deepEqual(r.plan2.effects.indexesCreated[0], ["notebooks", "by_name"]);
    assert.deepEqual(r.plan2.migrations.map((m) => m.version), [1, 2]);

    assert.deepEqual(r.to2, { from: 0, to: 2, backupId: null }, "nothing to back up before the first migration");
    assert.equal(r.planAll.effects.recordsTouched.notes, 2 * 4, "four data steps (v3 to v5) over two notes");
    assert.ok(r.planAll.effects.dataDropped.some((d) => d.includes("meta.rating")));
    assert.equal(r.toLatest.from, 2);
    assert.equal(r.toLatest.to, 5);
    assert.match(r.toLatest.backupId, /^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    assert.ok(r.progress.length > 0, "the automatic backup reported progress");
    const [done, total] = r.progress.at(-1);
    assert.equal(done, total);

    const a = r.notes.find((n) => n.title === "a");
    assert.equal(a.content, "one two three");
    assert.equal(a.body, undefined);
    assert.deepEqual(a.meta, { wordCount: 3 }, "transform ran; rating removed by v4");
    assert.equal(a.tags, undefined, "written after v2 ran, so v2 did not add tags");
    assert.equal(a.priority, 0);
    assert.equal(a.whenIsDate, true, "an untouched Date stays a Date");
    assert.equal(a.when, 5);
    assert.deepEqual(r.notes.find((n) => n.title === "b").tags, ["x"]);

    assert.equal(r.atLatest.schemaVersion, 5);
    assert.deepEqual(r.atLatest.pending, []);
    assert.deepEqual(r.atLatest.applied.map((m) => m.version), [1, 2, 3, 4, 5]);
    assert.match(r.atLatest.applied[0].checksum, /^[0-9a-f]{64}$/);
    assert.equal(typeof r.atLatest.applied[0].appliedAt, "number");
    assert.deepEqual(r.atLatest.journal.map((j) => [j.operation, j.from, j.to, j.error]),
      [["migrate", 2, 5, null], ["migrate", 0, 2, null]], "journal, newest first");
    assert.equal(r.atLatest.journal[0].backupId, r.toLatest.backupId);

    assert.deepEqual(r.valid, { ok: true, problems: [] });
    assert.equal(r.planBack.direction, "down");
    assert.deepEqual(r.back.from, 5);
    assert.deepEqual(r.back.to, 4);
    assert.ok(r.back.backupId);
    assert.deepEqual(r.stores3.sort(), ["attachments", "notebooks", "notes", "preferences"]);
    assert.ok(r.notes3.every((n) => n.priority === undefined));
    assert.equal(r.status3.schemaVersion, 4);
    assert.deepEqual(r.status3.pending, [5]);
    assert.equal(r.status3.journal[0].operation, "rollback");
    assert.deepEqual(r.backups, [
      { label: "before rolling back from version 5 to 4", automatic: true },
      { label: "before migrating from version 2 to 5", automatic: true },
    ]);
  });
});
