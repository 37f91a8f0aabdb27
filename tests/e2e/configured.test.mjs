// The release build of the page (`make recovery`, dist/recovery/, never the demo build) as an
// app ships it: its folder served under /app/recovery/, with the app's rewind.json, migrations
// and transforms module (tests/e2e/app/) beside it. The app's existing databases, one made by
// raw IndexedDB code and one by Dexie 4, are adopted through the page and migrated; a broken
// configuration gets a page that says what is wrong; another tab blocking an operation, and
// no room for one, are shown with what to do.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { servedBrowser, outcome } from "./harness.mjs";
import { ENGINE } from "../shared/browsers.mjs";

const RECOVERY = process.env.RECOVERY_DIST ?? "dist/recovery";
const AT = "/app/recovery/";
const app = (f) => readFileSync(join("tests/e2e/app", f), "utf8");
const APP_FILES = {
  [`${AT}rewind.json`]: app("rewind.json"),
  [`${AT}raw-migrations.json`]: app("raw-migrations.json"),
  [`${AT}transforms.js`]: app("transforms.js"),
  // The app's own copy of Dexie, which its pages load (here: the test's seeding code).
  "/app/dexie.mjs": readFileSync("node_modules/dexie/dist/dexie.mjs"),
};
const shared = servedBrowser(RECOVERY, { at: AT, files: { ...APP_FILES } });

/** The server's files as the app's, with `changes` (path → body, or null for none). */
function configure(changes = {}) {
  const files = shared.server.files;
  for (const k of Object.keys(files)) delete files[k];
  Object.assign(files, APP_FILES);
  for (const [k, v] of Object.entries(changes)) files[`${AT}${k}`] = v;
}

const NOTES = 10;
const text = (i) => `note number ${i} has words`; // 5 words

/** The app's earlier code, raw IndexedDB: version 3, store notes (key path id), index by_title. */
function seedRaw(page) {
  return page.evaluate((n) => new Promise((ok, fail) => {
    const r = indexedDB.open("raw-notes", 3);
    r.onupgradeneeded = () => {
      const notes = r.result.createObjectStore("notes", { keyPath: "id" });
      notes.createIndex("by_title", "title");
      for (let i = 1; i <= n; i++) notes.put({ id: i, title: `title ${i}`, text: `note number ${i} has words` });
    };
    r.onsuccess = () => { r.result.close(); ok(); };
    r.onerror = () => fail(r.error);
  }), NOTES);
}

/** The app's earlier code, Dexie 4: version 2 (IndexedDB version 20), "++id, title". */
function seedDexie(page) {
  return page.evaluate(async (n) => {
    const { default: Dexie } = await import(new URL("/app/dexie.mjs", location.href).href);
    const db = new Dexie("dexie-notes");
    db.version(2).stores({ notes: "++id, title" });
    const notes = [];
    for (let i = 1; i <= n; i++) notes.push({ title: `title ${i}`, text: `note number ${i} has words` });
    await db.notes.bulkAdd(notes);
    db.close();
  }, NOTES);
}

/** Every record of `db`'s notes, and its IndexedDB version. */
function readNotes(page, db) {
  return page.evaluate((db) => new Promise((ok, fail) => {
    const r = indexedDB.open(db);
    r.onsuccess = () => {
      const all = r.result.transaction("notes").objectStore("notes").getAll();
      all.onsuccess = () => { const version = r.result.version; r.result.close(); ok({ version, notes: all.result }); };
      all.onerror = () => fail(all.error);
    };
    r.onerror = () => fail(r.error);
  }), db);
}

/** Holds `db` open in another tab of the same browser, never letting go on versionchange. */
async function holdOpen(tab, db) {
  await tab.evaluate((db) => new Promise((ok, fail) => {
    const r = indexedDB.open(db);
    r.onsuccess = () => { window.held = r.result; ok(); };
    r.onerror = () => fail(r.error);
  }), db);
}

async function select(page, db) {
  await page.getByRole("combobox", { name: "Database" }).selectOption(db);
}

async function dismiss(page) {
  await page.locator(".notice").getByRole("button", { name: "Dismiss" }).click();
  await page.locator(".notice").waitFor({ state: "detached" });
}

/** Adopts the selected database at `version` through the page; resolves to the outcome. */
async function adopt(page, version) {
  const adoptButton = page.getByRole("region", { name: "Status" }).getByRole("button", { name: `Adopt at version ${version}…` });
  await adoptButton.waitFor({ timeout: 60_000 });
  await adoptButton.click();
  const dialog = page.getByRole("dialog", { name: "Adopt database" });
  await dialog.getByRole("checkbox", { name: "I understand what will change" }).check();
  await dialog.getByRole("button", { name: "Adopt", exact: true }).click();
  return outcome(page, 120_000);
}

async function migrate(page, from, to) {
  await page.getByRole("button", { name: "Migrate to latest" }).click();
  const dialog = page.getByRole("dialog", { name: "Migrate database" });
  await dialog.getByText(`From schema version ${from} to ${to}`).waitFor();
  await dialog.getByRole("checkbox", { name: "I understand what will change" }).check();
  await dialog.getByRole("button", { name: "Migrate", exact: true }).click();
  return outcome(page, 120_000);
}

for (const [db, seed, idbVersion] of [["raw-notes", seedRaw, 3], ["dexie-notes", seedDexie, 20]]) {
  test(`a database made by ${db === "raw-notes" ? "raw IndexedDB code" : "Dexie 4"} is adopted through the configured page and migrated, no record changed but by the migrations`, async () => {
    configure();
    const { page, errors, close } = await shared.browser.openPage(shared.server.url);
    await seed(page);
    const before = await readNotes(page, db);
    assert.equal(before.version, idbVersion);
    assert.equal(before.notes.length, NOTES);
    await page.goto(shared.server.url);
    await select(page, db);
    const status = page.getByRole("region", { name: "Status" });
    await status.getByText(/This database was made before the app used Rewind/).waitFor({ timeout: 60_000 });
    // raw-notes: versions 1 and 2 differ only in data steps, and rewind.json says 1; dexie-notes
    // ("auto"): only 1 matches.
    assert.match(await status.innerText(), db === "raw-notes" ? /Its schema matches version 1, 2\./ : /Its schema matches version 1\./);

    const adopted = await adopt(page, 1);
    assert.equal(adopted.role, "status", adopted.text);
    assert.match(adopted.text, /^Adopted at schema version 1/);
    await status.getByText("valid: the database matches schema version 1").waitFor({ timeout: 60_000 });
    assert.deepEqual((await readNotes(page, db)).notes, before.notes, "adopting changes no record");
    await dismiss(page);

    const migrated = await migrate(page, 1, 2);
    assert.equal(migrated.role, "status", migrated.text);
    await status.getByText("valid: the database matches schema version 2").waitFor({ timeout: 60_000 });
    const after = await readNotes(page, db);
    const expected = before.notes.map((n) => ({
      ...n, words: 5, ...(db === "raw-notes" ? { tags: [] } : {}),
    }));
    assert.deepEqual(after.notes, expected, "only the migration's steps changed the records (transforms.js ran)");
    assert.deepEqual(await errors(), []);
    await close();
  });
}

test("a missing, unreadable or invalid configuration gets a page that says which file and field, and what to do", async () => {
  const cases = [
    [{ "rewind.json": null }, /rewind\.json was not found: http:\/\/127\.0\.0\.1:\d+\/app\/recovery\/rewind\.json answered HTTP 404/],
    [{ "rewind.json": "{\"databases\": [" }, /rewind\.json is not valid JSON: .*line 1/],
    [{ "rewind.json": JSON.stringify({ databases: [{ name: "n" }] }) }, /rewind\.json, field databases\[0\]\.migrations: is missing/],
    [{ "raw-migrations.json": null }, /raw-migrations\.json was not found/],
    [{ "raw-migrations.json": "[{\"version\": 1, \"name\": \"x\", \"up\": [{\"op\": \"dropEverything\"}]}]" },
      /The migrations of database "raw-notes" \(raw-migrations\.json\) are invalid: .*dropEverything/],
    [{ "transforms.js": "export function other(r) { return r; }" }, /transform "count_words" has no function/],
    [{ "transforms.js": "export function count_words(r) { return r; " }, /The transforms of database "raw-notes" could not be loaded from transforms\.js/],
  ];
  for (const [changes, expected] of cases) {
    configure(changes);
    const { page, close } = await shared.browser.openPage(shared.server.url, { allowErrors: true });
    const alert = page.getByRole("alert").filter({ hasText: "This recovery page is not set up correctly" });
    await alert.waitFor({ timeout: 60_000 });
    const said = await alert.innerText();
    assert.match(said, expected, `${JSON.stringify(changes)}: ${said}`);
    assert.match(said, /then reload/);
    assert.equal(await page.getByRole("heading", { level: 2, name: "This recovery page is not set up correctly" }).count(), 1);
    assert.equal(await page.getByRole("combobox", { name: "Database" }).count(), 0, "no database is offered");
    await close();
  }
});

test("the configured page opens with its server gone after one visit: the worker kept the page, rewind.json, the migrations and the transforms", async () => {
  configure();
  const { serve } = await import("./harness.mjs");
  const own = await serve(RECOVERY, { at: AT, files: { ...APP_FILES } });
  // The app's database is there before the one visit (seeded from another page of the site).
  const { page, close } = await shared.browser.openPage(`${own.origin}/app/`, { allowErrors: true });
  try {
    await seedRaw(page);
    await page.goto(own.url);
    await page.getByRole("combobox", { name: "Database" }).waitFor({ timeout: 60_000 });
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await own.close();
    await page.goto(own.url);
    await select(page, "raw-notes");
    await page.getByRole("region", { name: "Status" }).getByRole("button", { name: "Adopt at version 1…" }).waitFor({ timeout: 60_000 });
  } finally {
    await close();
    await own.close();
  }
});

test("another tab holding the database open: the page says it is blocked and what to do, and nothing changes", async () => {
  configure();
  const { page, errors, openTab, close } = await shared.browser.openPage(shared.server.url);
  await seedRaw(page);
  const before = await readNotes(page, "raw-notes");
  const other = await openTab(new URL("/app/dexie.mjs", shared.server.url).href);
  await holdOpen(other, "raw-notes");
  await page.goto(shared.server.url);
  await select(page, "raw-notes");
  const adoptButton = page.getByRole("region", { name: "Status" }).getByRole("button", { name: "Adopt at version 1…" });
  await adoptButton.waitFor({ timeout: 60_000 });
  await adoptButton.click();
  const dialog = page.getByRole("dialog", { name: "Adopt database" });
  await dialog.getByRole("checkbox", { name: "I understand what will change" }).check();
  await dialog.getByRole("button", { name: "Adopt", exact: true }).click();

  const blocked = page.getByRole("alert").filter({ hasText: "Another tab of this app is holding the database open" });
  await blocked.waitFor({ timeout: 60_000 });
  assert.match(await blocked.innerText(), /Close the app's other tabs/);
  const done = await outcome(page, 120_000);
  assert.equal(done.role, "alert", done.text);
  assert.match(done.text, /^The database was not adopted at version 1\. .*another tab.*Nothing was changed\. Close the app's other tabs and try again/);
  await other.evaluate(() => window.held.close());
  const after = await readNotes(page, "raw-notes");
  assert.deepEqual(after, before, "nothing changed");
  assert.deepEqual(await errors(), []);
  await close();
});

test("no room for an operation: the page says so and what to do, and nothing changes",
  { skip: ENGINE !== "chromium" && "needs CDP (Storage.overrideQuotaForOrigin) to limit the quota, which only Chromium offers here (docs/engines.md)" },
  async () => {
    configure();
    // Another page of the site first: the quota is set before the origin stores anything.
    const { page, context, errors, close } = await shared.browser.openPage(`${shared.server.origin}/app/`, { allowErrors: true });
    // Room for the data, not for the automatic backup adopting takes first.
    const cdp = await context.newCDPSession(page);
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: shared.server.origin, quotaSize: 3_000_000 });
    await page.evaluate(() => new Promise((ok, fail) => {
      const r = indexedDB.open("raw-notes", 3);
      r.onupgradeneeded = () => {
        const notes = r.result.createObjectStore("notes", { keyPath: "id" });
        notes.createIndex("by_title", "title");
        // About 1.8 MB of text that does not compress.
        for (let i = 1; i <= 30; i++) {
          let text = "";
          for (let j = 0; j < 60_000; j++) text += String.fromCharCode(97 + Math.floor(Math.random() * 26));
          notes.put({ id: i, title: `title ${i}`, text });
        }
      };
      r.onsuccess = () => { r.result.close(); ok(); };
      r.onerror = () => fail(r.error);
    }));
    const before = await readNotes(page, "raw-notes");
    await page.goto(shared.server.url);
    await select(page, "raw-notes");
    const done = await adopt(page, 1);
    assert.equal(done.role, "alert", done.text);
    assert.match(done.text, /^The database was not adopted at version 1\. .*(storage space|room)/i);
    assert.match(done.text, /free|delete/i, "says what to do");
    assert.deepEqual(await readNotes(page, "raw-notes"), before, "nothing changed");
    await page.getByRole("region", { name: "Status" }).getByRole("button", { name: "Adopt at version 1…" }).waitFor();
    assert.deepEqual(await errors(), []);
    await close();
  });
