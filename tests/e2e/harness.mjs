// Shared by the end-to-end tests: serve the built page on 127.0.0.1 and drive Debian's
// Chromium with playwright-core (never a downloaded browser); the set-up every test file
// repeats (a server and a browser for the file, each test's pages closed after it) and the
// reads of a page's state they share.
import { before, after, afterEach } from "node:test";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";
import { openBrowser, ENGINE } from "../shared/browsers.mjs";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".wasm": "application/wasm",
  ".css": "text/css",
  ".json": "application/json",
};

/** Serves `dir` on a free loopback port; resolves to { url, files, close }. With `at` (a path
 * such as "/app/recovery/") the folder is served there, as an app serves the page's folder,
 * and `url` is its address. `files` maps paths of the site to bodies (strings or Buffers) served
 * before the folder's, or to null for a 404, or to a function of the request that gives one
 * (after doing what the request asks: a test's hook the page calls); tests change it as they go. */
export async function serve(dir, { at = "/", files = {} } = {}) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    if (Object.hasOwn(files, path)) {
      let body = files[path];
      if (typeof body === "function") {
        try { body = await body(req); } catch (e) { res.writeHead(500).end(String(e)); return; }
      }
      if (body === null) { res.writeHead(404).end("not found"); return; }
      res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" });
      res.end(body);
      return;
    }
    if (!path.startsWith(at)) { res.writeHead(404).end("not found"); return; }
    const inside = path.slice(at.length);
    const file = normalize(join(dir, inside === "" ? "index.html" : inside));
    if (!file.startsWith(normalize(dir))) { res.writeHead(403).end(); return; }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address();
  let closed;
  const close = () => {
    // Every connection goes at once (a browser's idle keep-alive ones included): the server is gone.
    closed ??= new Promise((ok) => { server.close(ok); server.closeAllConnections(); });
    return closed;
  };
  return { url: `http://127.0.0.1:${port}${at}`, origin: `http://127.0.0.1:${port}`, files, close };
}

const CHROMIUM = {
  executablePath: process.env.CHROME_BIN ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync",
  ],
};

export async function launch() {
  return chromium.launch(CHROMIUM);
}

/** Chromium with a profile on disk at `dir` (a context: closing it ends that browser), so that
 * IndexedDB and its Blobs are files a test can reach, and outlive the browser. */
export async function launchPersistent(dir) {
  return chromium.launchPersistentContext(dir, CHROMIUM);
}

/** A page that fails the test on any uncaught page error or console error, unless allowed. */
export async function openPage(browser, url, { allowErrors = false } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await page.goto(url);
  return { page, context, errors: () => (allowErrors ? [] : errors) };
}

export const DIST = process.env.DIST ?? "dist";

/** A server of `dir` (serve's options) and the engine's browser for the whole test file, every
 * page a test left open closed after it. Resolves nothing: read `.server` and `.browser` in
 * the tests. */
export function servedBrowser(dir = DIST, options = {}) {
  const shared = { server: null, browser: null };
  before(async () => { shared.server = await serve(dir, options); shared.browser = await openBrowser(ENGINE); });
  afterEach(() => shared.browser?.closePages());
  after(async () => { await shared.browser?.close(); await shared.server?.close(); });
  return shared;
}

/** Waits for `locator` of `page`; on a timeout the error says what the page showed. */
async function waitShowing(page, locator, timeout) {
  try {
    await locator.waitFor({ timeout });
  } catch (e) {
    const shown = await page.evaluate(() => (document.querySelector("main") ?? document.body)?.innerText?.slice(0, 600) ?? "").catch(() => "?");
    throw new Error(`${e.message}; the page showed: ${shown}`);
  }
}

/** Waits until the Status region says the selected database is valid, and the backups are
 * listed. WebKit's first load of the page (a fresh profile: the demo database made, five
 * migrations) took over 60 s once in a CI run (17 s alone): 120 s, as for an outcome. */
export async function ready(page) {
  const status = page.getByRole("region", { name: "Status" });
  await waitShowing(page, status.getByText(/valid: the database matches schema version/), 120_000);
  await page.getByRole("table", { name: "Backups" }).waitFor();
  return status;
}

/** Waits for the outcome of an operation: the success status or an alert. An operation with
 * its automatic backup took WebKit over 60 s once in a clean-clone run (25 s alone): 120 s, and
 * on a timeout the error says what the page showed. */
export async function outcome(page, timeout = 120_000) {
  const done = page.locator(".notice");
  await waitShowing(page, done, timeout);
  return { role: await done.getAttribute("role"), text: await done.innerText() };
}

/** How many records store `store` of database `db` holds, read as the app would. */
export async function countRecords(page, db = "notes-demo", store = "notes") {
  return page.evaluate(([db, store]) => new Promise((ok, fail) => {
    const r = indexedDB.open(db);
    r.onsuccess = () => {
      const c = r.result.transaction(store).objectStore(store).count();
      c.onsuccess = () => { r.result.close(); ok(c.result); };
      c.onerror = () => fail(c.error);
    };
    r.onerror = () => fail(r.error);
  }), [db, store]);
}
