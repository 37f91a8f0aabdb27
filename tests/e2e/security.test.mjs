// The page runs under a strict Content-Security-Policy and never renders data as HTML.
import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { serve, DIST } from "./harness.mjs";
import { openBrowser, ENGINE } from "../shared/browsers.mjs";

let server, browser;
before(async () => { server = await serve(DIST); browser = await openBrowser(ENGINE); });
afterEach(() => browser?.closePages());
after(async () => { await browser?.close(); await server?.close(); });

test("the built page has the CSP and no inline script", async () => {
  const html = await readFile(join(DIST, "index.html"), "utf8");
  assert.match(html, /Content-Security-Policy" content="[^"]*script-src 'self' 'wasm-unsafe-eval'/);
  const scripts = html.match(/<script[^>]*>/g) ?? [];
  assert.ok(scripts.length >= 1);
  for (const s of scripts) assert.match(s, /\bsrc="\//, `inline script: ${s}`);
});

test("the page works under the CSP, which blocks inline script", async () => {
  const { page, errors, close } = await browser.openPage(server.url);
  await page.getByRole("table", { name: "Backups" }).waitFor({ timeout: 60_000 });
  assert.deepEqual(await errors(), [], "the page itself violates nothing");
  const violation = await page.evaluate(() => new Promise((ok) => {
    document.addEventListener("securitypolicyviolation", (e) => ok(e.violatedDirective));
    const s = document.createElement("script");
    s.textContent = "window.__inline = 1";
    document.head.appendChild(s);
    setTimeout(() => ok("no violation"), 2000);
  }));
  assert.match(violation, /^script-src/);
  assert.equal(await page.evaluate(() => window.__inline), undefined);
  await close();
});

test("labels and file contents are shown as text, never as HTML", async () => {
  const { page, close } = await browser.openPage(server.url, { allowErrors: true });
  await page.getByRole("table", { name: "Backups" }).waitFor({ timeout: 60_000 });
  const label = `<img src=x onerror="window.__pwned=1"><b>bold</b>`;
  const backups = page.getByRole("region", { name: "Backups" });
  await backups.getByRole("textbox", { name: "Backup label" }).fill(label);
  await backups.getByRole("button", { name: "Create backup" }).click();
  const row = backups.getByRole("row").filter({ hasText: label });
  await row.waitFor({ timeout: 60_000 });
  assert.equal(await row.locator("img, b").count(), 0, "no element was made from the label");
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await close();
});
