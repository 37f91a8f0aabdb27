// Shared by tests/js/*.test.mjs: the repository root served on 127.0.0.1 (pkg/ and this test
// page), the engine REWIND_ENGINE names (chromium, firefox, webkit; see
// tests/shared/browsers.mjs), and one fresh context (own IndexedDB) per test.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { serve } from "../e2e/harness.mjs";
import { openBrowser, ENGINE } from "../shared/browsers.mjs";

export { ENGINE };
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
let server, browser;
before(async () => { server = await serve(ROOT); browser = await openBrowser(ENGINE); });
after(async () => { await browser?.close(); await server?.close(); });

export function url(path) { return server.url + path; }

/** Opens the test page (pkg/ loaded), runs `f(page, context)`, fails on uncaught page errors.
 * `context` is the Playwright browser context in Chromium, null elsewhere; `prefs` are
 * Firefox preferences for this page's browser; `at`, a whole URL, opens a page of another
 * server (another origin) instead of `path`. */
export async function withPage(f, { path = "tests/js/index.html", at, allowErrors = false, prefs } = {}) {
  const { page, context, errors, close } = await browser.openPage(at ?? url(path), { allowErrors, prefs });
  try {
    if (!at && path === "tests/js/index.html") await page.waitForFunction(() => window.T && window.Rewind);
    const result = await f(page, context);
    const seen = await errors();
    if (seen.length) throw new Error(`errors on the page: ${seen.join("\n")}`);
    return result;
  } finally {
    await close();
  }
}

/** Fails unless `f` (a `T.failure` result) is a RewindError `Error` with `code` and a message
 * for people. */
export function assertCode(f, code, what) {
  assert.equal(f.resolved, undefined, `${what}: rejected`);
  assert.equal(f.isError, true, `${what}: an Error`);
  assert.equal(f.name, "RewindError", what);
  assert.equal(f.code, code, `${what}: ${f.message}`);
  assert.ok(f.message.length > 20, what);
}
