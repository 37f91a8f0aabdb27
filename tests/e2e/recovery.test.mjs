// A person recovers their data with the recovery page, through the names and roles a screen
// reader would use, in the engine REWIND_ENGINE names (tests/shared/browsers.mjs: Playwright in
// Chromium, our WebDriver client in Firefox and WebKit).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve, DIST, servedBrowser, ready, outcome, countRecords } from "./harness.mjs";
import { ENGINE } from "../shared/browsers.mjs";

const shared = servedBrowser();

/** Opens the download dialog of the backup in `row` and confirms it (no passphrase). */
async function confirmDownload(page, row) {
  await row.getByRole("button", { name: "Download…" }).click();
  const dialog = page.getByRole("dialog", { name: "Download backup" });
  await dialog.getByRole("button", { name: "Download", exact: true }).click();
}

// The screenshots in docs/ are Chromium's.
const SHOTS = process.env.UPDATE_SCREENSHOTS === "1" && ENGINE === "chromium" ? "docs/screenshots" : null;
async function shot(page, name) {
  if (!SHOTS) return;
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

test("roll back to an earlier version, see status and validation change, then migrate to latest", async () => {
  const { page, errors, close } = await shared.browser.openPage(shared.server.url);
  const status = await ready(page);
  await shot(page, "status");
  assert.match(await status.innerText(), /Schema version\s+5 of 5/);

  await page.getByRole("button", { name: "Roll back…" }).click();
  const dialog = page.getByRole("dialog", { name: "Roll back database" });
  await dialog.getByRole("combobox", { name: "Target version" }).selectOption("4");
  await dialog.getByText("From schema version 5 to 4").waitFor();
  assert.match(await dialog.innerText(), /Data that will be dropped[\s\S]*"priority"/);
  const confirm = dialog.getByRole("button", { name: "Roll back", exact: true });
  assert.equal(await confirm.isDisabled(), true, "disabled until the box is ticked");
  await dialog.getByRole("checkbox", { name: "I understand what will change" }).check();
  assert.equal(await confirm.isEnabled(), true);
  await shot(page, "rollback-dialog");
  await confirm.click();

  const done = await outcome(page);
  assert.equal(done.role, "status", done.text);
  assert.match(done.text, /Rolled back from schema version 5 to 4\. The database as it was before is kept as backup \S+\. Reload the app/);
  await status.getByText("valid: the database matches schema version 4").waitFor();
  assert.match(await status.innerText(), /Schema version\s+4 of 5/);
  assert.match(await status.innerText(), /Pending migrations\s+5/);
  assert.match(await status.innerText(), /roll back 5 → 4/);
  await shot(page, "after-rollback");

  await page.getByRole("button", { name: "Migrate to latest" }).click();
  const migrate = page.getByRole("dialog", { name: "Migrate database" });
  await migrate.getByText("From schema version 4 to 5").waitFor();
  await migrate.getByRole("checkbox", { name: "I understand what will change" }).check();
  await migrate.getByRole("button", { name: "Migrate", exact: true }).click();
  const again = await outcome(page);
  assert.equal(again.role, "status", again.text);
  await status.getByText("valid: the database matches schema version 5").waitFor();
  assert.equal(await page.getByRole("button", { name: "Migrate to latest" }).isDisabled(), true);
  assert.equal(await countRecords(page), 3000);
  assert.deepEqual(await errors(), []);
  await close();
});

test("a rollback across the irreversible migration is refused with a way out", async () => {
  const { page, close } = await shared.browser.openPage(shared.server.url);
  await ready(page);
  await page.getByRole("button", { name: "Roll back…" }).click();
  const dialog = page.getByRole("dialog", { name: "Roll back database" });
  await dialog.getByRole("combobox", { name: "Target version" }).selectOption("2");
  const refusal = dialog.getByRole("alert");
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /migration 4 .* cannot be undone.*restore a backup/);
  await dialog.getByRole("checkbox", { name: "I understand what will change" }).check();
  assert.equal(await dialog.getByRole("button", { name: "Roll back", exact: true }).isDisabled(), true);
  await shot(page, "irreversible-refused");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await dialog.waitFor({ state: "detached" });
  assert.match(await page.getByRole("region", { name: "Status" }).innerText(), /Schema version\s+5 of 5/);
  await close();
});

test("create a backup, download it, lose the data, upload the file and restore it", async () => {
  const { page, errors, close } = await shared.browser.openPage(shared.server.url);
  await ready(page);
  const backups = page.getByRole("region", { name: "Backups" });
  await backups.getByRole("textbox", { name: "Backup label" }).fill("before the trip");
  await backups.getByRole("button", { name: "Create backup" }).click();
  const created = await outcome(page);
  assert.equal(created.role, "status", created.text);
  assert.match(created.text, /created: 3218 records in 4 stores/);
  const row = backups.getByRole("row").filter({ hasText: "before the trip" });
  await row.waitFor();
  assert.match(await row.innerText(), /manual/);

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    confirmDownload(page, row),
  ]);
  assert.match(download.suggestedFilename(), /^notes-demo-v5-\d{8}T\d{6}Z\.rewind$/);
  const file = join(tmpdir(), `rewind-e2e-${ENGINE}-${process.pid}.rewind`);
  await download.saveAs(file);

  // Disaster: the app's data is wiped.
  await page.evaluate(() => new Promise((ok, fail) => {
    const r = indexedDB.open("notes-demo");
    r.onsuccess = () => {
      const tx = r.result.transaction(["notes", "attachments"], "readwrite");
      tx.objectStore("notes").clear(); tx.objectStore("attachments").clear();
      tx.oncomplete = () => { r.result.close(); ok(); };
      tx.onerror = () => fail(tx.error);
    };
  }));
  assert.equal(await countRecords(page), 0);

  await backups.getByLabel("Upload backup file").setInputFiles(file);
  const dialog = page.getByRole("dialog", { name: "Restore from file" });
  await dialog.getByText(/verified \(SHA-256/).waitFor();
  const contents = await dialog.innerText();
  assert.match(contents, /Database\s+notes-demo/);
  assert.match(contents, /Schema version\s+5/);
  assert.match(contents, /notes: 3000 records/);
  // What the restore will change, once worked out (the dialog grows then: tick the box after).
  await dialog.getByRole("region", { name: "What the restore will change" })
    .getByText("3000 notes deleted since this backup will come back.").waitFor({ timeout: 60_000 });
  await shot(page, "restore-from-file");
  const restore = dialog.getByRole("button", { name: "Restore", exact: true });
  assert.equal(await restore.isDisabled(), true);
  await dialog.getByRole("checkbox", { name: "I understand what will change" }).check();
  await restore.click();
  const restored = await outcome(page);
  assert.equal(restored.role, "status", restored.text);
  assert.match(restored.text, /Restored the backup file \(schema version 5\)\. The database as it was before is kept as backup/);
  assert.equal(await countRecords(page), 3000);
  await page.getByRole("region", { name: "Status" }).getByText("valid: the database matches schema version 5").waitFor();
  assert.deepEqual(await errors(), []);
  await close();
});

test("a corrupted file shows an alert and changes nothing", async () => {
  const { page, close } = await shared.browser.openPage(shared.server.url);
  await ready(page);
  const backups = page.getByRole("region", { name: "Backups" });
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    confirmDownload(page, backups.getByRole("row").filter({ hasText: "demo: notes with attachments" })),
  ]);
  const bytes = await readFile(await download.path());
  bytes[Math.floor(bytes.length / 2)] ^= 0x40;
  const file = join(tmpdir(), `rewind-e2e-bad-${ENGINE}-${process.pid}.rewind`);
  await writeFile(file, bytes);
  const before = await countRecords(page);
  await backups.getByLabel("Upload backup file").setInputFiles(file);
  const dialog = page.getByRole("dialog", { name: "Restore from file" });
  const alert = dialog.getByRole("alert");
  await alert.waitFor();
  assert.match(await alert.innerText(), /damaged.*Nothing was changed/);
  await dialog.getByRole("checkbox", { name: "I understand what will change" }).check();
  assert.equal(await dialog.getByRole("button", { name: "Restore", exact: true }).isDisabled(), true);
  await shot(page, "corrupted-file");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  assert.equal(await countRecords(page), before);

  // Not a backup at all.
  const text = join(tmpdir(), `rewind-e2e-text-${ENGINE}-${process.pid}.rewind`);
  await writeFile(text, '{"hello": "world"}');
  await backups.getByLabel("Upload backup file").setInputFiles(text);
  await page.getByRole("dialog", { name: "Restore from file" }).getByRole("alert").getByText(/not a Rewind backup file/).waitFor();
  await close();
});

test("a download that fails says so in an alert", async () => {
  const { page, errors, close } = await shared.browser.openPage(shared.server.url);
  await ready(page);
  const backups = page.getByRole("region", { name: "Backups" });
  const row = backups.getByRole("row").filter({ hasText: "demo: notes with attachments" });
  const id = (await row.locator(".muted").innerText()).trim();
  // The backup disappears from the catalog behind the page's back (e.g. another tab deleted it).
  await page.evaluate((id) => new Promise((ok, fail) => {
    const r = indexedDB.open("__rewind_backups:notes-demo");
    r.onsuccess = () => {
      const tx = r.result.transaction(["manifests", "files"], "readwrite");
      tx.objectStore("manifests").delete(id); tx.objectStore("files").delete(id);
      tx.oncomplete = () => { r.result.close(); ok(); };
      tx.onerror = () => fail(tx.error);
    };
    r.onerror = () => fail(r.error);
  }), id);
  await confirmDownload(page, row);
  const failed = await outcome(page);
  assert.equal(failed.role, "alert", failed.text);
  assert.match(failed.text, new RegExp(`The backup could not be downloaded: there is no backup "${id}"`));
  assert.deepEqual(await errors(), []);
  await close();
});

test("restore and delete a listed backup after confirming", async () => {
  const { page, close } = await shared.browser.openPage(shared.server.url);
  const status = await ready(page);
  const backups = page.getByRole("region", { name: "Backups" });
  const automatic = backups.getByRole("row").filter({ hasText: "before migrating from version 1 to 5" });
  await automatic.getByRole("button", { name: "Restore" }).click();
  const dialog = page.getByRole("dialog", { name: "Restore backup" });
  await dialog.getByRole("checkbox", { name: "I understand what will change" }).check();
  await dialog.getByRole("button", { name: "Restore", exact: true }).click();
  const done = await outcome(page);
  assert.equal(done.role, "status", done.text);
  await status.getByText("valid: the database matches schema version 1").waitFor();
  assert.match(await status.innerText(), /Pending migrations\s+2, 3, 4, 5/);

  // What the restore replaced is held in place as its automatic backup; restoring it undoes
  // the restore.
  const held = backups.getByRole("row").filter({ hasText: "before restoring" });
  await held.getByText("kept in the database").waitFor();
  await held.getByRole("button", { name: "Restore" }).click();
  await dialog.getByRole("checkbox", { name: "I understand what will change" }).check();
  await dialog.getByRole("button", { name: "Restore", exact: true }).click();
  const undone = await outcome(page);
  assert.equal(undone.role, "status", undone.text);
  await status.getByText("valid: the database matches schema version 5").waitFor();
  assert.doesNotMatch(await status.innerText(), /Pending migrations\s+\d/);

  const manual = backups.getByRole("row").filter({ hasText: "demo: notes with attachments" });
  await manual.getByRole("button", { name: "Delete" }).click();
  const del = page.getByRole("dialog", { name: "Delete backup" });
  assert.equal(await del.getByRole("button", { name: "Delete", exact: true }).isDisabled(), true);
  await del.getByRole("checkbox", { name: "I understand what will change" }).check();
  await del.getByRole("button", { name: "Delete", exact: true }).click();
  await outcome(page);
  await manual.waitFor({ state: "detached" });
  await shot(page, "backups");
  await close();
});

test("a record no backup can carry: refused by name, then left out by choice and kept by the restore", async () => {
  const { page, close } = await shared.browser.openPage(shared.server.url);
  await ready(page);
  const stored = await page.evaluate(async () => {
    const secret = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt"]);
    return new Promise((ok, fail) => {
      const r = indexedDB.open("notes-demo");
      r.onsuccess = () => {
        const tx = r.result.transaction("notes", "readwrite");
        tx.objectStore("notes").put({ id: 9999, title: "vault", secret });
        tx.oncomplete = () => { r.result.close(); ok(true); };
        tx.onerror = () => fail(tx.error);
      };
    });
  });
  assert.equal(stored, true);
  const notesBefore = await countRecords(page);
  const backups = page.getByRole("region", { name: "Backups" });
  await backups.getByRole("textbox", { name: "Backup label" }).fill("with a key");
  await backups.getByRole("button", { name: "Create backup" }).click();
  const refused = await outcome(page);
  assert.equal(refused.role, "alert", refused.text);
  assert.match(refused.text, /store "notes", record 9999: it holds a CryptoKey object at \.secret/);
  await page.getByRole("button", { name: "Dismiss" }).click();

  await backups.getByRole("textbox", { name: "Backup label" }).fill("key left out");
  await backups.getByRole("checkbox", { name: /Leave out records that cannot be backed up/ }).check();
  await backups.getByRole("button", { name: "Create backup" }).click();
  const created = await outcome(page);
  assert.equal(created.role, "status", created.text);
  assert.match(created.text, /Left out, because a backup cannot carry them: notes 9999 \(a CryptoKey object\)/);
  assert.equal(await backups.getByRole("checkbox", { name: /Leave out records/ }).isChecked(), false,
    "the choice is made again for every backup");
  await page.getByRole("button", { name: "Dismiss" }).click();
  const row = backups.getByRole("row").filter({ hasText: "key left out" });
  await row.getByText("1 record left out").waitFor();

  await row.getByRole("button", { name: "Restore" }).click();
  const dialog = page.getByRole("dialog", { name: "Restore backup" });
  const left = dialog.getByRole("region", { name: "Records left out" });
  await left.getByText("notes 9999 (a CryptoKey object at .secret) — kept from the database as it is now").waitFor();
  await dialog.getByRole("checkbox", { name: "I understand what will change" }).check();
  await dialog.getByRole("button", { name: "Restore", exact: true }).click();
  const done = await outcome(page);
  assert.equal(done.role, "status", done.text);
  assert.equal(await countRecords(page), notesBefore, "every note, the key's record included");
  const kept = await page.evaluate(() => new Promise((ok) => {
    const r = indexedDB.open("notes-demo");
    r.onsuccess = () => {
      const g = r.result.transaction("notes").objectStore("notes").get(9999);
      g.onsuccess = () => { r.result.close(); ok(g.result?.secret instanceof CryptoKey); };
    };
  }));
  assert.equal(kept, true, "the key is the live one, kept");
  await close();
});

test("the page opens with its server gone once it has been visited", async () => {
  // A server of its own, stopped halfway: the same for every engine (WebDriver has no offline
  // switch), and what the service worker is for (the app's server or the network is gone).
  const own = await serve(DIST);
  const { page, close } = await shared.browser.openPage(own.url, { allowErrors: true });
  try {
    await ready(page);
    await page.evaluate(() => navigator.serviceWorker.ready);
    // Opened again by address, not reloaded: a WebDriver reload in Firefox bypasses the worker.
    await page.goto(own.url);
    await ready(page);
    assert.equal(await page.evaluate(() => !!navigator.serviceWorker.controller), true, "the service worker controls the page");
    await own.close();
    assert.equal(await page.evaluate(() => fetch("/index.html").then(() => "fetched", () => "unreachable")), "fetched",
      "the worker answers from its cache");
    await page.goto(own.url);
    await page.getByRole("heading", { level: 1, name: "Rewind — Recovery" }).waitFor();
    await ready(page);
  } finally {
    await close();
    await own.close();
  }
});

test("a migration changed after it was applied shows as drift, refuses changes, and can be repaired", async () => {
  const { page, errors, close } = await shared.browser.openPage(shared.server.url);
  await ready(page);
  // The app shipped a modified migration 2: its recorded checksum no longer matches.
  await page.evaluate(() => new Promise((ok, fail) => {
    const r = indexedDB.open("notes-demo");
    r.onsuccess = () => {
      const tx = r.result.transaction("__rewind_meta", "readwrite");
      const store = tx.objectStore("__rewind_meta");
      const get = store.get("state");
      get.onsuccess = () => {
        const meta = JSON.parse(get.result);
        meta.applied[1].checksum = "0".repeat(64);
        store.put(JSON.stringify(meta), "state");
      };
      tx.oncomplete = () => { r.result.close(); ok(); };
      tx.onerror = () => fail(tx.error);
    };
  }));
  await page.reload();
  const status = page.getByRole("region", { name: "Status" });
  const drift = status.getByRole("alert").filter({ hasText: "was changed after it was applied" });
  await drift.waitFor({ timeout: 60_000 });
  assert.match(await drift.innerText(), /Migration 2 \("tags on notes"\)/);

  await page.getByRole("button", { name: "Roll back…" }).click();
  const rollback = page.getByRole("dialog", { name: "Roll back database" });
  await rollback.getByRole("combobox", { name: "Target version" }).selectOption("4");
  await rollback.getByRole("alert").getByText(/was applied but has been modified/).waitFor();
  await rollback.getByRole("button", { name: "Cancel" }).click();

  await status.getByRole("button", { name: "Repair checksums…" }).click();
  const repair = page.getByRole("dialog", { name: "Repair checksums" });
  assert.match(await repair.innerText(), /2 — tags on notes/);
  await repair.getByRole("checkbox", { name: "I understand what will change" }).check();
  await repair.getByRole("button", { name: "Repair", exact: true }).click();
  const done = await outcome(page);
  assert.equal(done.role, "status", done.text);
  assert.match(done.text, /Re-recorded the checksums of migration 2\. No schema or data changed/);
  await drift.waitFor({ state: "detached" });
  await status.getByText("repair checksums at 5").waitFor();
  assert.equal(await countRecords(page), 3000);
  assert.deepEqual(await errors(), []);
  await close();
});

test("after a crash or a closed tab mid-operation, the page says what became of the operation", async (t) => {
  // Chromium's renderer is crashed (CDP); WebDriver cannot crash one, so in Firefox and WebKit
  // the tab is closed mid-operation, as a person would, and the page opened again in another.
  const { page, context, openTab, close } = await shared.browser.openPage(shared.server.url);
  try {
    await ready(page);
    const spare = await openTab("about:blank");
    await page.getByRole("button", { name: "Roll back…" }).click();
    const dialog = page.getByRole("dialog", { name: "Roll back database" });
    await dialog.getByRole("combobox", { name: "Target version" }).selectOption("4");
    await dialog.getByText("From schema version 5 to 4").waitFor();
    await dialog.getByRole("checkbox", { name: "I understand what will change" }).check();
    await dialog.getByRole("button", { name: "Roll back", exact: true }).click();
    await page.getByRole("progressbar").waitFor();
    if (ENGINE === "chromium") {
      // Kill the renderer; CDP never answers a Page.crash, so wait for the crash itself.
      const cdp = await context.newCDPSession(page);
      const crashed = new Promise((ok) => page.once("crash", ok));
      cdp.send("Page.crash").catch(() => {});
      await crashed;
    } else {
      await page.closeTab();
    }

    const again = spare;
    await again.goto(shared.server.url);
    const status = await ready(again);
    const notice = again.locator(".notice");
    await notice.waitFor({ timeout: 60_000 });
    const text = await notice.innerText();
    const version = (await status.innerText()).match(/Schema version\s+(\d) of 5/)[1];
    t.diagnostic(`${ENGINE}: the rollback ${version === "5" ? "was interrupted" : "had completed"} when the tab went`);
    if (version === "5") {
      assert.equal(await notice.getAttribute("role"), "alert");
      assert.match(text, /Rolling back to version 4 was interrupted before it completed .* Nothing was changed/);
    } else {
      assert.equal(version, "4");
      assert.equal(await notice.getAttribute("role"), "status");
      assert.match(text, /Rolling back to version 4 had completed before the page closed/);
    }
    assert.equal(await countRecords(again), 3000);
  } finally {
    await close();
  }
});
