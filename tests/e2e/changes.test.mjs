// Before a restore, its dialog says what it will change against the live database, and
// working that out changes nothing; the Status region says whether the site's storage is
// persistent and asks the browser for it on request. In the engine REWIND_ENGINE names.
import { test } from "node:test";
import assert from "node:assert/strict";
import { servedBrowser, ready, outcome, countRecords } from "./harness.mjs";
import { ENGINE } from "../shared/browsers.mjs";

const shared = servedBrowser();

/** Since a backup: 37 notes made, the first deleted, the next two edited (as an app would). */
function editNotes(page) {
  return page.evaluate(() => new Promise((ok, fail) => {
    const r = indexedDB.open("notes-demo");
    r.onsuccess = () => {
      const tx = r.result.transaction("notes", "readwrite");
      const store = tx.objectStore("notes");
      for (let i = 0; i < 37; i++) store.add({ title: `new ${i}`, text: "written since", updatedAt: i });
      const first = store.getAll(null, 3);
      first.onsuccess = () => {
        const [gone, ...edited] = first.result;
        store.delete(gone.id);
        for (const note of edited) store.put({ ...note, text: "edited since the backup" });
      };
      tx.oncomplete = () => { r.result.close(); ok(); };
      tx.onerror = () => fail(tx.error);
    };
  }));
}

test("the restore dialog says what the restore will change, and saying it changes nothing", async () => {
  const { page, errors, close } = await shared.browser.openPage(shared.server.url);
  await ready(page);
  const backups = page.getByRole("region", { name: "Backups" });
  await backups.getByRole("textbox", { name: "Backup label" }).fill("before the edits");
  await backups.getByRole("button", { name: "Create backup" }).click();
  assert.equal((await outcome(page)).role, "status");
  const listed = backups.getByRole("row").filter({ hasText: "before the edits" });
  await listed.waitFor();
  const rows = await backups.getByRole("row").count();

  await editNotes(page);
  const count = await countRecords(page);

  await backups.getByRole("row").filter({ hasText: "before the edits" }).getByRole("button", { name: "Restore" }).click();
  const dialog = page.getByRole("dialog", { name: "Restore backup" });
  const changes = dialog.getByRole("region", { name: "What the restore will change" });
  await changes.getByText("37 notes created since this backup will be removed.").waitFor({ timeout: 60_000 });
  const said = await changes.innerText();
  assert.match(said, /1 record of notes deleted since this backup will come back\./);
  assert.match(said, /2 notes changed since this backup will be put back as they were\./);
  assert.doesNotMatch(said, /attachments|notebooks|Schema:/, "nothing else differs");

  await dialog.getByRole("button", { name: "Cancel" }).click();
  await dialog.waitFor({ state: "detached" });
  assert.equal(await countRecords(page), count, "the diff wrote nothing");
  await listed.waitFor();
  assert.equal(await backups.getByRole("row").count(), rows, "and took no backup");

  // A backup identical to the database: the dialog says the restore changes no record.
  await backups.getByRole("textbox", { name: "Backup label" }).fill("identical");
  await backups.getByRole("button", { name: "Create backup" }).click();
  const identical = backups.getByRole("row").filter({ hasText: "identical" });
  await identical.waitFor({ timeout: 60_000 });
  await identical.getByRole("button", { name: "Restore" }).click();
  await dialog.getByRole("region", { name: "What the restore will change" })
    .getByText("The database holds exactly what this backup holds: the restore changes no record.").waitFor({ timeout: 60_000 });
  assert.deepEqual(await errors(), []);
  await close();
});

test("the status says whether storage is persistent and asks the browser for it on request", async () => {
  // Firefox asks the person; its testing preferences answer for them.
  const prefs = { "dom.storageManager.prompt.testing": true, "dom.storageManager.prompt.testing.allow": true };
  const { page, errors, close } = await shared.browser.openPage(shared.server.url, { prefs });
  const status = await ready(page);
  const text = await status.innerText();
  assert.match(text, /Persistent storage/);
  const ask = status.getByRole("button", { name: "Ask the browser to keep this site's data" });
  if (ENGINE === "webkit") {
    // WebKitGTK has no navigator.storage: nothing to ask (docs/engines.md).
    assert.match(text, /Unknown: this browser neither says/);
    assert.equal(await ask.count(), 0);
    await close();
    return;
  }
  if (/Yes: the browser keeps/.test(text)) {
    assert.equal(await ask.count(), 0, "no button once it is persistent");
    await close();
    return;
  }
  assert.match(text, /No: when the device runs low on space, the browser may delete this site's data/);
  await ask.click();
  const answer = status.getByRole("status").filter({ hasText: /Granted|Refused by the browser/ });
  await answer.waitFor({ timeout: 30_000 });
  if (/Refused/.test(await answer.innerText())) {
    // Chromium decides by its own rules (engagement, bookmarks), which a test cannot meet:
    // the refusal is said, and nothing else changes.
    assert.equal(ENGINE, "chromium", "Firefox's testing preferences grant it");
    assert.match(await answer.innerText(), /Download a backup to keep a copy elsewhere/);
    assert.match(await status.innerText(), /No: when the device runs low/);
    assert.equal(await ask.isEnabled(), true, "it can be asked again");
    assert.deepEqual(await errors(), []);
    await close();
    return;
  }
  assert.match(await status.innerText(), /Yes: the browser keeps this site's data/);
  assert.equal(await ask.count(), 0);
  assert.deepEqual(await errors(), []);
  await close();
});
