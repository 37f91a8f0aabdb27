// Shared by tests/js/*.test.mjs: the repository root served on 127.0.0.1 (pkg/ and this test
// page), Debian's Chromium, and one fresh browser context (own IndexedDB) per test.
import { before, after } from "node:test";
import { fileURLToPath } from "node:url";
import { serve, launch, openPage } from "../e2e/harness.mjs";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
let server, browser;
before(async () => { server = await serve(ROOT); browser = await launch(); });
after(async () => { await browser?.close(); await server?.close(); });

export function url(path) { return server.url + path; }

/** Opens the test page (pkg/ loaded), runs `f(page)`, fails on uncaught page errors. */
export async function withPage(f, { path = "tests/js/index.html", allowErrors = false } = {}) {
  const { page, context, errors } = await openPage(browser, url(path), { allowErrors });
  try {
    if (path === "tests/js/index.html") await page.waitForFunction(() => window.T && window.Rewind);
    const result = await f(page, context);
    const seen = errors();
    if (seen.length) throw new Error(`errors on the page: ${seen.join("\n")}`);
    return result;
  } finally {
    await context.close();
  }
}
