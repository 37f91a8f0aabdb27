// The recovery page in the engine REWIND_ENGINE names (chromium, firefox, webkit): it opens
// under its CSP, builds the demo database (migrations, an automatic and a manual backup), and
// shows its status, schema and backups, with no error on the page. The other e2e files drive
// the page's flows, in every engine too.
import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { serve, DIST } from "./harness.mjs";
import { openBrowser, ENGINE } from "../shared/browsers.mjs";

let server, browser;
before(async () => { server = await serve(DIST); browser = await openBrowser(ENGINE); });
afterEach(() => browser?.closePages());
after(async () => { await browser?.close(); await server?.close(); });

test(`the recovery page builds and shows the demo database in ${ENGINE}`, async () => {
  const { page, errors, close } = await browser.openPage(server.url);
  try {
    await page.getByRole("heading", { name: "Rewind — Recovery" }).waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => [...document.querySelectorAll("select option")].some((o) => o.value === "notes-demo"),
      undefined, { timeout: 60_000 });
    await page.evaluate(() => {
      const select = document.querySelector("select");
      select.value = "notes-demo";
      select.dispatchEvent(new Event("change", { bubbles: true }));
    });
    await page.waitForFunction(() => /Records\s+3218/.test(document.body.innerText) && /demo: notes with attachments/.test(document.body.innerText),
      undefined, { timeout: 60_000 });
    const text = await page.evaluate(() => document.body.innerText);
    assert.match(text, /valid: the database matches schema version 5/);
    assert.match(text, /migrate 1 → 5\s+done \(backup \d{8}T\d{6}Z-[0-9a-f]{8} taken first\)/);
    assert.match(text, /notes\s+key path "id", auto-increment\s+3000/);
    assert.match(text, /attachments\s+out-of-line keys\s+200/);
    assert.match(text, /before migrating from version 1 to 5/);
    assert.doesNotMatch(text, /__rewind|internal error/);
    assert.deepEqual(await errors(), []);
  } finally {
    await close();
  }
});
