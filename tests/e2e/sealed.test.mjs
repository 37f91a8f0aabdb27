// A person downloads a backup sealed under a passphrase with the recovery page, loses the data,
// and restores the file: refused without the passphrase and with a wrong one (the dialog says
// why, nothing changes), restored with the right one. Found by the names and roles a screen
// reader would use. Chromium (downloads are Playwright's). Then the same for a backup an app
// keeps sealed in the catalog (made with pkg/'s JS API in the page): marked Encrypted in the
// list, downloaded as it is with its own passphrase, restored by id only with it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { servedBrowser, ready, outcome, countRecords, DIST } from "./harness.mjs";
import { ENGINE } from "../shared/browsers.mjs";

// pkg/ (scripts/pkg.sh) served beside the page at /pkg/, so that a test can keep a sealed
// backup in the catalog as an app does, with the JS API.
// Without pkg/ only the test that needs it fails, saying so.
const PKG = fileURLToPath(new URL("../../pkg", import.meta.url));
const pkgFiles = {};
let pkgMissing = null;
try {
  for (const entry of await readdir(PKG, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath ?? entry.path, entry.name);
    pkgFiles[`/pkg/${relative(PKG, path)}`] = await readFile(path);
  }
} catch (e) {
  pkgMissing = `pkg/ cannot be read (build it with scripts/pkg.sh): ${e.message}`;
}

const shared = servedBrowser(DIST, { files: pkgFiles });

/** In the page: every note of notes-demo deleted, as a disaster would. */
async function wipeNotes(page) {
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
}
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
  await wipeNotes(page);

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

const KEPT_WARNING = "This backup is encrypted: anyone with it and the passphrase can read it; without the passphrase nobody can open it, not even you.";

/** In the page: a manual backup of notes-demo labelled `label`, sealed under `passphrase` and
 * kept in the catalog, made with pkg/'s JS API as an app would. */
async function keepSealedBackup(page, label, passphrase) {
  return page.evaluate(async ([label, passphrase]) => {
    const { default: init, Rewind } = await import("/pkg/rewind.js");
    await init();
    const migrations = await (await fetch("/migrations.json")).json();
    const transforms = { ...(await import("/transforms.js")) };
    const rw = await Rewind.open("notes-demo", migrations, { transforms });
    const manifest = await rw.backup(label, { passphrase });
    const listed = (await rw.listBackups()).find((m) => m.id === manifest.id);
    rw.close();
    return { id: manifest.id, sealed: listed.sealed };
  }, [label, passphrase]);
}

test("a sealed backup kept by the app: marked Encrypted, restored only with its passphrase", { skip: ENGINE !== "chromium" && "the JS API is loaded into the page in Chromium only" }, async () => {
  assert.equal(pkgMissing, null);
  const { page, errors, close } = await shared.browser.openPage(shared.server.url);
  await ready(page);
  const kept = await keepSealedBackup(page, "kept sealed by the app", "harbor light 7");
  assert.equal(kept.sealed, true, "the catalog says it is sealed");
  await page.reload();
  await ready(page);
  const backups = page.getByRole("region", { name: "Backups" });
  const row = backups.getByRole("row").filter({ hasText: "kept sealed by the app" });
  const badge = row.getByRole("note", { name: /^Encrypted/ });
  await badge.waitFor();
  assert.equal((await badge.innerText()).trim(), "Encrypted");
  assert.equal(await backups.getByRole("row").filter({ hasText: "demo: notes with attachments" })
    .getByRole("note", { name: /^Encrypted/ }).count(), 0, "a plain backup is not marked");
  for (const size of [{ width: 390, height: 844 }, { width: 1280, height: 800 }]) {
    await page.setViewportSize(size);
    const [b, r] = [await badge.boundingBox(), await row.boundingBox()];
    assert.ok(b.x >= r.x && b.x + b.width <= r.x + r.width + 0.5 && b.y >= r.y && b.y + b.height <= r.y + r.height + 0.5,
      `the badge stays in its row at ${size.width} px: ${JSON.stringify({ b, r })}`);
  }

  // Its download needs its own passphrase (a wrong one downloads nothing) and hands the file
  // over as it is.
  const download = page.getByRole("dialog", { name: "Download backup" });
  const downloadButton = download.getByRole("button", { name: "Download", exact: true });
  await row.getByRole("button", { name: "Download…" }).click();
  await download.getByText(/already encrypted with its own passphrase/).waitFor();
  assert.equal(await downloadButton.isDisabled(), true, "no download without its passphrase");
  await download.getByLabel("Passphrase", { exact: true }).fill("harbor light 6");
  await downloadButton.click();
  const wrong = await outcome(page);
  assert.equal(wrong.role, "alert", wrong.text);
  assert.match(wrong.text, /could not be downloaded: the passphrase is not the one/);
  await page.locator(".notice").getByRole("button", { name: "Dismiss" }).click();
  await row.getByRole("button", { name: "Download…" }).click();
  await download.getByLabel("Passphrase", { exact: true }).fill("harbor light 7");
  const [file] = await Promise.all([page.waitForEvent("download"), downloadButton.click()]);
  const path = join(tmpdir(), `rewind-e2e-kept-sealed-${process.pid}.rewind`);
  await file.saveAs(path);
  assert.equal((await readFile(path)).readUInt32LE(8), 5, "downloaded sealed, as it is kept");

  // Disaster: the app's data is wiped.
  await wipeNotes(page);

  await row.getByRole("button", { name: "Restore" }).click();
  const dialog = page.getByRole("dialog", { name: "Restore backup" });
  const passphrase = dialog.getByLabel("Passphrase", { exact: true });
  assert.equal(await passphrase.getAttribute("type"), "password");
  await dialog.getByText(KEPT_WARNING).waitFor();
  const restore = dialog.getByRole("button", { name: "Restore", exact: true });
  const open = dialog.getByRole("button", { name: "Open with this passphrase" });
  const understood = dialog.getByRole("checkbox", { name: "I understand what will change" });
  await understood.check();
  assert.equal(await restore.isDisabled(), true, "nothing to restore without the passphrase");
  assert.equal(await open.isDisabled(), true, "nothing to open without one");
  assert.equal(await dialog.getByRole("region", { name: "What the restore will change" }).count(), 0,
    "no preview before the passphrase");

  await passphrase.fill("harbor light 8");
  await open.click();
  await dialog.getByRole("alert").getByText(/the passphrase is not the one this backup was encrypted with/).waitFor({ timeout: 60_000 });
  await understood.check();
  assert.equal(await restore.isDisabled(), true, "nothing to restore with a wrong passphrase");
  assert.equal(await countRecords(page), 0, "nothing changed");

  await passphrase.fill("harbor light 7");
  await open.click();
  await dialog.getByRole("region", { name: "What the restore will change" })
    .getByText(/notes deleted since this backup will come back/).waitFor({ timeout: 60_000 });
  assert.equal(await dialog.getByRole("alert").count(), 0, "the refusal is gone");
  await understood.check();
  await restore.click();
  const restored = await outcome(page);
  assert.equal(restored.role, "status", restored.text);
  assert.match(restored.text, new RegExp(`Restored backup ${kept.id}`));
  assert.ok(await countRecords(page) > 0);
  assert.deepEqual(await errors(), []);
  await close();
});
