// examples/notes-app, built as its README says (its `file:` dependency on pkg/ installed by npm,
// bundled by esbuild), met by the users it is written for: people whose database the app's 1.x
// raw IndexedDB code made (legacy/), who must find every note, changed only as migrations.json
// says; new users; and anyone opening it offline after a first visit (its service worker).
// Not tested here: the recovery page the app links (./recovery/, built by another target and
// copied in by the deployment) — the app only writes its rewind.json and migrations.json.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { cp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { withPage, ROOT, ENGINE } from "./setup.mjs";
import { serve } from "../e2e/harness.mjs";

const run = promisify(execFile);
const SOURCE = join(ROOT, "examples", "notes-app");
// Two levels under the root, as in examples/: its `file:../../pkg` dependency is the same pkg/.
const APP = join(ROOT, "target", "notes-app");
const DIST = join(APP, "dist");
// The built app served as a site serves it (its folder at the root, "/" its index.html, which
// the service worker keeps), with the 1.x page beside it at /legacy/ for the tests: the same
// origin, so the same databases.
let site;

before(async () => {
  await rm(APP, { recursive: true, force: true });
  await cp(SOURCE, APP, { recursive: true, filter: (p) => !/[/\\](node_modules|dist)$/.test(p) });
  // The package only (esbuild, its dev dependency, is the repository's own). npm still reads
  // esbuild's metadata to plan the tree: from its cache when the repository's own install put
  // it there, from the registry when not (a checkout whose node_modules came from elsewhere).
  await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--omit=dev", "--no-package-lock"], { cwd: APP });
  const { buildApp } = await import(pathToFileURL(join(APP, "build.mjs")).href);
  await buildApp(DIST);
  await cp(join(APP, "legacy"), join(DIST, "legacy"), { recursive: true });
  site = await serve(DIST);
});
after(() => site?.close());

test("the build writes the recovery folder's rewind.json and the one migrations.json where both read it", async () => {
  const built = DIST;
  const config = JSON.parse(await readFile(join(built, "recovery", "rewind.json"), "utf8"));
  assert.deepEqual(config, { databases: [{ name: "notes", migrations: "migrations.json", baseline: "auto" }] });
  const source = await readFile(join(SOURCE, "migrations.json"), "utf8");
  assert.deepEqual(JSON.parse(source).map((m) => m.version), [1, 2, 3]);
  // The one history, where the app and the recovery page read it.
  assert.equal(await readFile(join(built, "migrations.json"), "utf8"), source);
  assert.equal(await readFile(join(built, "recovery", "migrations.json"), "utf8"), source);
  assert.match(await readFile(join(built, "index.html"), "utf8"), /<a href="\.\/recovery\/">Recovery page<\/a>/);
  const pkg = JSON.parse(await readFile(join(APP, "node_modules", "rewind-indexeddb", "package.json"), "utf8"));
  assert.equal(pkg.name, "rewind-indexeddb", "installed from pkg/");
});

/** In the page: the notes database as it is (version, stores, the notes store's key path,
 * indexes and records). */
function dump() {
  const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
  return req(indexedDB.open("notes")).then(async (db) => {
    try {
      const s = db.transaction("notes").objectStore("notes");
      return {
        version: db.version,
        stores: [...db.objectStoreNames],
        keyPath: s.keyPath, autoIncrement: s.autoIncrement,
        indexes: [...s.indexNames].map((i) => [i, s.index(i).keyPath, s.index(i).multiEntry]),
        notes: await req(s.getAll()),
      };
    } finally { db.close(); }
  });
}

const ready = (page) => page.waitForFunction(() => document.body.dataset.ready === "true" || document.querySelector("[role=alert]"), undefined, { timeout: 60_000 });
const statusText = (page) => page.evaluate(() => document.getElementById("status").textContent);
const titles = (page) => page.evaluate(() => [...document.querySelectorAll("#notes h3")].map((h) => h.textContent));

test("a 1.x user's database is adopted at version 1 and migrated: every note kept, changed only as the migrations say", async () => {
  await withPage(async (page) => {
    // Notes 1.x: its raw code makes the database and five notes.
    await page.waitForFunction(() => window.legacy);
    await page.evaluate(async () => {
      for (let i = 1; i <= 5; i++) await window.legacy.addNote(`note ${i}`, `body ${i}\nsecond line`);
    });
    const before = await page.evaluate(dump);
    assert.equal(before.version, 2);
    assert.deepEqual(before.stores, ["notes"]);
    assert.equal(before.notes.length, 5);

    // Notes 2.0 starts.
    await page.goto(site.url);
    await ready(page);
    assert.equal(await statusText(page), "Ready: your notes from Notes 1.x were adopted and upgraded from schema version 1 to 3.");

    const after = await page.evaluate(dump);
    assert.deepEqual(after.stores.filter((s) => !s.startsWith("__rewind")), ["notes"]);
    assert.ok(after.stores.includes("__rewind_meta"), "Rewind manages it now");
    assert.deepEqual([after.keyPath, after.autoIncrement], ["id", true]);
    assert.deepEqual(after.indexes.sort(), [["by_tag", "tags", true], ["by_updated", "updated", false]]);
    // Version 2 added `tags: []`, version 3 renamed `body` to `text`; nothing else changed.
    assert.deepEqual(after.notes, before.notes.map(({ body, ...rest }) => ({ ...rest, tags: [], text: body })));

    // The app works on the migrated notes: it lists them, newest first, and adds one.
    assert.deepEqual((await titles(page)).sort(), ["note 1", "note 2", "note 3", "note 4", "note 5"]);
    await page.getByLabel("Title").fill("after the upgrade");
    await page.getByLabel("Text").fill("written by 2.0");
    await page.getByRole("button", { name: "Add note" }).click();
    await page.waitForFunction(() => document.querySelectorAll("#notes li").length === 6);
    assert.equal((await titles(page))[0], "after the upgrade");

    // The next start has nothing to do.
    await page.goto(site.url);
    await ready(page);
    assert.equal(await statusText(page), "Ready (schema version 3).");
    assert.equal((await page.evaluate(dump)).notes.length, 6);
  }, { at: `${site.url}legacy/index.html` });
});

test("a new user's empty database migrates from 0", async () => {
  await withPage(async (page) => {
    await ready(page);
    assert.equal(await statusText(page), "Ready: upgraded from schema version 0 to 3.");
    const db = await page.evaluate(dump);
    assert.deepEqual(db.notes, []);
    assert.deepEqual(db.indexes.map((i) => i[0]).sort(), ["by_tag", "by_updated"]);
  }, { at: site.url });
});

test("the app's migration history round-trips: every down gives back the schema and the notes (its test/history.html)", async () => {
  // The app's folder as installed (node_modules/rewind-indexeddb from pkg/), as a developer
  // serves it to run the check.
  const folder = await serve(APP);
  try {
    await withPage(async (page) => {
      await page.waitForFunction(() => window.historyReport, undefined, { timeout: 60_000 });
      const { report, scratch } = await page.evaluate(async () => ({
        report: window.historyReport,
        scratch: (await indexedDB.databases()).map((d) => d.name).filter((n) => n.startsWith("__rewind")),
      }));
      assert.equal(report.passed, true, JSON.stringify(report, null, 1));
      assert.deepEqual(report.migrations.map((m) => [m.version, m.passed, m.firstDifference]),
        [[1, true, null], [2, true, null], [3, true, null]]);
      assert.deepEqual(scratch, [], "the scratch database was deleted");
    }, { at: `${folder.url}test/history.html` });
  } finally {
    await folder.close();
  }
});

test("after a first visit the app starts and shows its notes with the server gone (service worker)", async (t) => {
  // A server of its own (an origin of its own), stopped halfway: "offline" the same way in
  // every engine, where only Chromium could switch the network off.
  const server = await serve(DIST);
  try {
    await withPage(async (page) => {
      await ready(page);
      const controlled = await page.evaluate(() => ("serviceWorker" in navigator
        ? navigator.serviceWorker.ready.then(() => new Promise((ok) => {
            if (navigator.serviceWorker.controller) return ok(true);
            navigator.serviceWorker.addEventListener("controllerchange", () => ok(true));
            setTimeout(() => ok(false), 20_000);
          }))
        : false));
      if (!controlled) {
        t.skip(`${ENGINE}: no service worker controls the page in this WebDriver session`);
        return;
      }
      await page.getByLabel("Title").fill("kept offline");
      await page.getByRole("button", { name: "Add note" }).click();
      await page.waitForFunction(() => document.querySelectorAll("#notes li").length === 1);

      await server.close();
      // Opened again by address, not reloaded: a WebDriver reload in Firefox bypasses the worker.
      await page.goto(server.url);
      await ready(page);
      assert.equal(await statusText(page), "Ready (schema version 3).");
      assert.deepEqual(await titles(page), ["kept offline"]);
    }, { at: server.url });
  } finally {
    await server.close();
  }
});
