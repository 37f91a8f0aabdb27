// A release of the app is withdrawn: the page of the release before it (this demo, which knows
// versions 1 to 5) meets the demo database as a newer release (version 6) left it, and rolls
// it back to 5 with the steps the database kept; a changed stored step is refused with nothing
// changed, and the newest backup at version 5 is offered instead. Played in the engine
// REWIND_ENGINE names.
import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { serve, DIST } from "./harness.mjs";
import { openBrowser, ENGINE } from "../shared/browsers.mjs";

let server, browser;
before(async () => { server = await serve(DIST); browser = await openBrowser(ENGINE); });
afterEach(() => browser?.closePages());
after(async () => { await browser?.close(); await server?.close(); });

async function ready(page) {
  const status = page.getByRole("region", { name: "Status" });
  await status.getByText(/valid: the database matches schema version/).waitFor({ timeout: 90_000 });
  await page.getByRole("table", { name: "Backups" }).waitFor();
  return status;
}

async function outcome(page) {
  const done = page.locator(".notice");
  await done.waitFor({ timeout: 60_000 });
  return { role: await done.getAttribute("role"), text: await done.innerText() };
}

/** What the newer release did to "notes-demo": version 6 ("labels", a new store), applied in
 * one upgrade with Rewind's metadata recording it and keeping its definition, whose checksum is
 * Rewind's (SHA-256 of the canonical JSON, keys sorted). `tamper` changes the kept definition
 * after its checksum was taken. */
function newerRelease(tamper) {
  return (async (tamper) => {
    const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
    const canonical = (v) => Array.isArray(v) ? `[${v.map(canonical).join(",")}]`
      : v && typeof v === "object" ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`
      : JSON.stringify(v);
    const v6 = { version: 6, name: "labels",
      up: [{ op: "createStore", store: "labels", keyPath: "id" }],
      down: [{ op: "deleteStore", store: "labels" }] };
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical(v6))));
    const checksum = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
    const current = await req(indexedDB.open("notes-demo"));
    const version = current.version;
    current.close();
    const open = indexedDB.open("notes-demo", version + 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore("labels", { keyPath: "id" });
      const meta = open.transaction.objectStore("__rewind_meta");
      const get = meta.get("state");
      get.onsuccess = () => {
        const state = JSON.parse(get.result);
        const definition = JSON.parse(JSON.stringify(v6));
        if (tamper) definition.down = [{ op: "deleteStore", store: "notes" }];
        state.schemaVersion = 6;
        state.applied.push({ version: 6, name: "labels", checksum, appliedAt: Date.now(), definition });
        meta.put(JSON.stringify(state), "state");
      };
    };
    (await req(open)).close();
  })(tamper);
}

async function demoState(page) {
  return page.evaluate(() => new Promise((ok, fail) => {
    const r = indexedDB.open("notes-demo");
    r.onsuccess = () => {
      const db = r.result;
      const tx = db.transaction(["__rewind_meta", "notes"]);
      const meta = tx.objectStore("__rewind_meta").get("state");
      const notes = tx.objectStore("notes").count();
      tx.oncomplete = () => {
        const out = { stores: [...db.objectStoreNames].filter((s) => !s.startsWith("__rewind")).sort(),
                      version: JSON.parse(meta.result).schemaVersion, notes: notes.result };
        db.close();
        ok(out);
      };
      tx.onerror = () => fail(tx.error);
    };
    r.onerror = () => fail(r.error);
  }));
}

test("a database changed by a newer release is rolled back to the newest version this page knows", async () => {
  const { page, errors, close } = await browser.openPage(server.url);
  await ready(page);
  const before = await demoState(page);
  await page.evaluate(newerRelease, false);
  await page.reload();
  const status = page.getByRole("region", { name: "Status" });
  const newer = status.getByRole("region", { name: "Changed by a newer version of the app" });
  await newer.waitFor({ timeout: 90_000 });
  assert.match(await newer.innerText(), /This database was changed by a newer version of the app \(version 6\)\. Roll back to version 5, the newest this app knows/);
  assert.equal(await page.getByRole("button", { name: "Roll back…" }).isDisabled(), true, "no ordinary rollback");

  await newer.getByRole("button", { name: "Roll back to version 5…" }).click();
  const dialog = page.getByRole("dialog", { name: "Roll back the newer version's changes" });
  await dialog.getByText("From schema version 6 to 5").waitFor({ timeout: 60_000 });
  assert.match(await dialog.innerText(), /The steps of version 6 come from the database/);
  assert.match(await dialog.innerText(), /store "labels" is deleted/);
  const confirm = dialog.getByRole("button", { name: "Roll back", exact: true });
  assert.equal(await confirm.isDisabled(), true, "disabled until the box is ticked");
  await dialog.getByRole("checkbox", { name: "I understand what will change" }).check();
  await confirm.click();

  const done = await outcome(page);
  assert.equal(done.role, "status", done.text);
  assert.match(done.text, /Rolled back from schema version 6 to 5 with the steps the database kept\. The database as it was before is kept as backup \S+\./);
  await status.getByText("valid: the database matches schema version 5").waitFor({ timeout: 60_000 });
  await newer.waitFor({ state: "detached" });
  assert.deepEqual(await demoState(page), before, "the stores and records of version 5");
  assert.deepEqual(await errors(), []);
  await close();
});

test("a stored step changed since it was applied is refused, nothing changes, and a backup is offered", async () => {
  const { page, errors, close } = await browser.openPage(server.url);
  await ready(page);
  await page.evaluate(newerRelease, true);
  const changed = await demoState(page);
  await page.reload();
  const newer = page.getByRole("region", { name: "Changed by a newer version of the app" });
  await newer.waitFor({ timeout: 90_000 });
  await newer.getByRole("button", { name: "Roll back to version 5…" }).click();
  const dialog = page.getByRole("dialog", { name: "Roll back the newer version's changes" });
  const refusal = dialog.getByRole("alert");
  await refusal.waitFor({ timeout: 60_000 });
  assert.match(await refusal.innerText(), /the steps the database keeps for migration 6 \("labels"\) do not match the checksum/);
  assert.equal(await dialog.getByRole("button", { name: "Roll back", exact: true }).isDisabled(), true);
  // The demo keeps a backup at version 5 ("demo: notes with attachments"): offered instead.
  await dialog.getByRole("button", { name: "Restore the newest backup at version 5…" }).click();
  const restore = page.getByRole("dialog", { name: "Restore backup" });
  await restore.waitFor();
  assert.match(await restore.innerText(), /demo: notes with attachments/);
  await restore.getByRole("button", { name: "Cancel" }).click();
  await restore.waitFor({ state: "detached" });
  assert.deepEqual(await demoState(page), changed, "nothing changed");
  assert.deepEqual(await errors(), []);
  await close();
});
