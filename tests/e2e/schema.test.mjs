// A person opens the recovery page, picks a database and reads its schema.
import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { serve, DIST } from "./harness.mjs";
import { openBrowser, ENGINE } from "../shared/browsers.mjs";

let server, browser;
before(async () => { server = await serve(DIST); browser = await openBrowser(ENGINE); });
afterEach(() => browser?.closePages());
after(async () => { await browser?.close(); await server?.close(); });

test("the page lists the demo database and shows its stores, indexes and counts", async () => {
  const { page, errors, close } = await browser.openPage(server.url);
  await page.getByRole("heading", { level: 1, name: "Rewind — Recovery" }).waitFor();
  assert.equal(await page.title(), "Rewind — Recovery");
  const select = page.getByRole("combobox", { name: "Database" });
  await select.waitFor();
  await select.selectOption("notes-demo");
  const status = page.getByRole("region", { name: "Status" });
  const stores = status.getByRole("table", { name: "Object stores" });
  await stores.waitFor();
  const row = (name) => stores.getByRole("row").filter({ has: page.getByRole("rowheader", { name, exact: true }) });
  assert.match(await row("notes").innerText(), /key path "id", auto-increment\s+3000/);
  assert.match(await row("notes").innerText(), /index "by_tag" on "tags", multi-entry/);
  assert.match(await row("notes").innerText(), /index "by_notebook_title" on \["notebookId", "title"\]/);
  assert.match(await row("notebooks").innerText(), /index "by_name" on "name", unique/);
  assert.match(await row("attachments").innerText(), /out-of-line keys\s+200/);
  assert.match(await row("preferences").innerText(), /out-of-line keys\s+6/);
  assert.match(await row("notes").innerText(), /index "by_priority" on "priority"/);
  assert.equal(await stores.getByRole("rowheader", { name: "settings", exact: true }).count(), 0);
  assert.equal(await status.getByText("__rewind").count(), 0, "Rewind's own stores are not shown as app data");
  assert.match(await status.innerText(), /Records\s+3218/);
  assert.deepEqual(await errors(), []);
  await close();
});

test("switching databases shows the other one's schema", async () => {
  const { page, errors, close } = await browser.openPage(server.url);
  await page.getByRole("combobox", { name: "Database" }).waitFor();
  // A second database made by "another app" on the same origin.
  await page.evaluate(() => new Promise((ok, fail) => {
    const req = indexedDB.open("other-app", 4);
    req.onupgradeneeded = () => req.result.createObjectStore("things", { keyPath: ["a", "b"] });
    req.onsuccess = () => { req.result.close(); ok(); };
    req.onerror = () => fail(req.error);
  }));
  await page.reload();
  const select = page.getByRole("combobox", { name: "Database" });
  await select.waitFor();
  await select.selectOption("other-app");
  const status = page.getByRole("region", { name: "Status" });
  await status.getByRole("rowheader", { name: "things" }).waitFor();
  assert.match(await status.innerText(), /IndexedDB version\s+4/);
  assert.match(await status.innerText(), /key path \["a", "b"\]\s+0/);
  await select.selectOption("notes-demo");
  // Once in a clean-clone run WebKit took longer than the default 30 s here (passing in 3 to
  // 20 s when run again): given more time, and on a timeout the test says what the page showed.
  await status.getByRole("rowheader", { name: "notes", exact: true }).waitFor({ timeout: 90_000 }).catch(async (e) => {
    const chosen = await page.evaluate(() => document.getElementById("database")?.value);
    throw new Error(`${e.message}; the database chosen: ${chosen}; the Status region: ${(await status.innerText()).slice(0, 400)}`);
  });
  assert.deepEqual(await errors(), []);
  await close();
});

test("a panic shows a readable error instead of a blank page", async () => {
  const { page, close } = await browser.openPage(server.url + "?panic", { allowErrors: true });
  const alert = page.getByRole("alert");
  await alert.waitFor();
  const text = await alert.innerText();
  assert.match(text, /Rewind stopped because of an internal error/);
  assert.match(text, /Your data was not changed/);
  assert.match(text, /test panic requested/);
  await close();
});
