// A person downloads a backup sealed under a passphrase with the recovery page, loses the data,
// and restores the file: refused without the passphrase and with a wrong one (the dialog says
// why, nothing changes), restored with the right one. Found by the names and roles a screen
// reader would use. Chromium (downloads are Playwright's).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { servedBrowser, ready, outcome, countRecords } from "./harness.mjs";
import { ENGINE } from "../shared/browsers.mjs";

const shared = servedBrowser();
const WARNING = "Anyone with this file and the passphrase can read it; without the passphrase nobody can open it, not even you.";

test("download a sealed backup, then restore it: no passphrase, a wrong one, the right one", { skip: ENGINE !== "chromium" && "downloads are driven by Playwright" }, async () => {
  const { page, errors, close } = await shared.browser.openPage(shared.server.url);
  await ready(page);
  const backups = page.getByRole("region", { name: "Backups" });
  const row = backups.getByRole("row").filter({ hasText: "demo: notes with attachments" });
  await row.getByRole("button", { name: "Download…" }).click();
  const download = page.getByRole("dialog", { name: "Download backup" });
  const field = download.getByLabel("Passphrase (optional: encrypts the file)");
  assert.equal(await field.getAttribute("type"), "password");
  await download.getByText(WARNING).waitFor();
  await field.fill("tide pool 42");
  const [file] = await Promise.all([
    page.waitForEvent("download"),
    download.getByRole("button", { name: "Download", exact: true }).click(),
  ]);
  const path = join(tmpdir(), `rewind-e2e-sealed-${process.pid}.rewind`);
  await file.saveAs(path);
  const bytes = await readFile(path);
  assert.equal(bytes.readUInt32LE(8), 5, "the downloaded file is sealed (format 5)");
  assert.ok(bytes.readUInt32LE(20) >= 600_000, "PBKDF2 iterations in the header");
  assert.equal(bytes.includes("notes-demo"), false, "no database name in the file's bytes");

  // Disaster: the app's data is wiped.
  await page.evaluate(() => new Promise((ok, fail) => {
    const r = indexedDB.open("notes-demo");
    r.onsuccess = () => {
      const tx = r.result.transaction(["notes"], "readwrite");
      tx.objectStore("notes").clear();
      tx.oncomplete = () => { r.result.close(); ok(); };
      tx.onerror = () => fail(tx.error);
    };
  }));
  assert.equal(await countRecords(page), 0);

  await backups.getByLabel("Upload backup file").setInputFiles(path);
  const dialog = page.getByRole("dialog", { name: "Restore from file" });
  await dialog.getByRole("alert").getByText(/this backup is encrypted; give the passphrase it was made with/).waitFor();
  const restore = dialog.getByRole("button", { name: "Restore", exact: true });
  const passphrase = dialog.getByLabel("Passphrase", { exact: true });
  assert.equal(await passphrase.getAttribute("type"), "password");
  await dialog.getByText(WARNING).waitFor();
  await dialog.getByRole("checkbox", { name: "I understand what will change" }).check();
  assert.equal(await restore.isDisabled(), true, "nothing to restore without the passphrase");

  await passphrase.fill("tide pool 43");
  await dialog.getByRole("button", { name: "Open with this passphrase" }).click();
  await dialog.getByRole("alert").getByText(/the passphrase is not the one this backup was encrypted with/).waitFor({ timeout: 60_000 });
  assert.equal(await restore.isDisabled(), true, "nothing to restore with a wrong passphrase");
  assert.equal(await countRecords(page), 0, "nothing changed");

  await passphrase.fill("tide pool 42");
  await dialog.getByRole("button", { name: "Open with this passphrase" }).click();
  await dialog.getByText(/verified \(SHA-256/).waitFor({ timeout: 60_000 });
  assert.match(await dialog.innerText(), /Database\s+notes-demo/);
  await dialog.getByRole("region", { name: "What the restore will change" })
    .getByText(/notes deleted since this backup will come back/).waitFor({ timeout: 60_000 });
  await dialog.getByRole("checkbox", { name: "I understand what will change" }).check();
  await restore.click();
  const restored = await outcome(page);
  assert.equal(restored.role, "status", restored.text);
  assert.match(restored.text, /Restored the backup file/);
  assert.ok(await countRecords(page) > 0);
  assert.deepEqual(await errors(), []);
  await close();
});
