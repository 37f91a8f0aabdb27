// The page at scale: the room a backup or a restore needs, shown before it runs; progress in
// records with the time left; and a restore cancelled from the page, which changes nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { servedBrowser, ready, countRecords } from "./harness.mjs";

const shared = servedBrowser();

// Enough notes that restoring a backup of them all lasts far longer than a click takes
// (seconds in every engine), so that Cancel is always pressed before the swap.
const EXTRA_NOTES = 60_000;

/** Adds `n` notes to the demo database as the app would (plain IndexedDB); resolves to the count. */
async function addNotes(page, n) {
  return page.evaluate((n) => new Promise((ok, fail) => {
    const r = indexedDB.open("notes-demo");
    r.onsuccess = () => {
      const tx = r.result.transaction("notes", "readwrite");
      const notes = tx.objectStore("notes");
      for (let i = 0; i < n; i++) {
        notes.put({
          notebookId: `nb-${String(i % 12).padStart(2, "0")}`,
          title: `extra note ${i}`,
          body: `Body of extra note ${i}. `.repeat(1 + (i % 4)),
          updatedAt: 1_700_000_000_000 + i,
          priority: i % 3,
        });
      }
      const count = notes.count();
      tx.oncomplete = () => { r.result.close(); ok(count.result); };
      tx.onerror = () => fail(tx.error);
    };
    r.onerror = () => fail(r.error);
  }), n);
}

// WebKitGTK has no navigator.storage: the page says the browser does not report free space.
const FREE = /Free space\s+(\d[\d.]* (bytes|KB|MB|GB|TB) \(.* used of .* available to this site\)|not reported by this browser)/;

test("the backup panel and the restore dialog show the database's size, the free space and the file's size", async () => {
  const { page, errors, close } = await shared.browser.openPage(shared.server.url);
  await ready(page);
  const backups = page.getByRole("region", { name: "Backups" });
  const panel = await backups.innerText();
  assert.match(panel, /Database size\s+about \d[\d.]* (KB|MB) \([\d,]+ records\)/);
  assert.match(panel, FREE);

  const row = backups.getByRole("row").filter({ hasText: "demo: notes with attachments" });
  await row.getByRole("button", { name: "Restore" }).click();
  const dialog = page.getByRole("dialog", { name: "Restore backup" });
  await dialog.getByRole("checkbox", { name: "I understand what will change" }).waitFor();
  const text = await dialog.innerText();
  assert.match(text, /Database size\s+about \d[\d.]* (KB|MB) \([\d,]+ records\)/);
  assert.match(text, /Backup file size\s+\d[\d.]* (KB|MB)/);
  assert.match(text, FREE);
  assert.doesNotMatch(text, /may not fit/, "a demo database fits");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await dialog.waitFor({ state: "detached" });
  assert.deepEqual(await errors(), []);
  await close();
});

test("a restore shows its progress in records with the time left, and Cancel stops it without changing anything", async () => {
  const { page, errors, close } = await shared.browser.openPage(shared.server.url);
  const status = await ready(page);
  const notes = await addNotes(page, EXTRA_NOTES);
  assert.equal(notes, 3000 + EXTRA_NOTES);

  // A backup of them all, so that the restore writes them all (its automatic backup is held in
  // place by the swap and takes no time of its own).
  const backups = page.getByRole("region", { name: "Backups" });
  await backups.getByRole("textbox", { name: "Backup label" }).fill("every note");
  await backups.getByRole("button", { name: "Create backup" }).click();
  const row = backups.getByRole("row").filter({ hasText: "every note" });
  await row.waitFor({ timeout: 120_000 });
  await row.getByRole("button", { name: "Restore" }).click();
  const dialog = page.getByRole("dialog", { name: "Restore backup" });
  await dialog.getByRole("checkbox", { name: "I understand what will change" }).check();
  await dialog.getByRole("button", { name: "Restore", exact: true }).click();

  // The records written beside the app's data, counted with their bytes and the time left.
  const progress = page.getByText(
    /Writing the backup: [\d,]+ of [\d,]+ records \(.+ of .+\), (about \d+ (seconds?|minutes?|hours?) left|almost done)/);
  await progress.waitFor({ timeout: 60_000 });
  const cancel = page.getByRole("button", { name: "Cancel the restore" });
  await cancel.click();
  await page.getByText(/Cancelling…/).waitFor();

  const notice = page.locator(".notice").filter({ hasText: /^Restore/ });
  await notice.waitFor({ timeout: 120_000 });
  const role = await notice.getAttribute("role");
  const said = await notice.innerText();
  assert.equal(role, "status", said);
  assert.match(said, /^Restore cancelled: nothing was changed\./);
  assert.equal(await cancel.count(), 0, "no operation runs any more");
  assert.equal(await countRecords(page), 3000 + EXTRA_NOTES, "the data is as it was");
  await status.getByText("valid: the database matches schema version 5").waitFor();
  assert.deepEqual(await errors(), []);
  await close();
});
