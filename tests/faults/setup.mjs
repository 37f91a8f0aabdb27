// Shared by tests/faults/*.test.mjs: the repository root served on 127.0.0.1, Debian's
// Chromium, browser contexts whose pages can be crashed or closed and reopened over the same
// origin storage, and the comparison of database dumps.
//
// In Firefox and WebKit (REWIND_ENGINE, tests/shared/browsers.mjs) a context is a WebDriver
// session, its pages are tabs of it (a blank one kept open, so that closing the others never
// ends the session), and a page is killed by closing its tab: WebDriver cannot crash a page.
// What needs CDP (crashes, quota) is Chromium's (`chromiumOnly` says so as a skip reason).
import { before, after } from "node:test";
import { fileURLToPath } from "node:url";
import { serve, launch, launchPersistent } from "../e2e/harness.mjs";
import { ENGINE, openBrowser, WebDriverPage } from "../shared/browsers.mjs";

export { ENGINE };
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const PAGE = "tests/faults/index.html";
let server, webdriver;
export let browser;
before(async () => {
  server = await serve(ROOT);
  if (ENGINE === "chromium") browser = await launch();
  else webdriver = await openBrowser(ENGINE);
});
after(async () => { await browser?.close(); await webdriver?.close(); await server?.close(); });

/** A test option: skipped outside Chromium, saying which of its tools it needs. */
export function chromiumOnly(needs) {
  return { skip: ENGINE !== "chromium" && `needs ${needs}, which only Chromium offers here (docs/engines.md)` };
}

/** A WebDriver session as a context: every page a tab of it (Firefox, WebKit). */
class SessionContext {
  async openPage() {
    if (!this.keeper) {
      const opened = await webdriver.openPage("about:blank", { allowErrors: true });
      this.keeper = opened.page;
      this.closeSession = opened.close;
    }
    const page = await this.keeper.openTab(url());
    await page.waitForFunction(() => window.F && window.Rewind);
    return Object.assign(page, { errors: [], close: () => page.closeTab() });
  }
  async close() { await this.closeSession?.(); }
}

export function url(path = PAGE) { return server.url + path; }

/** Serves `handler(request)`'s answer at `path` of the test server (null: no longer): a hook the
 * page calls, synchronously if it must, so that what the test does lands at a point of the
 * page's own (a file cut on disk inside a progress callback). */
export function hook(path, handler) {
  if (handler) server.files[path] = handler;
  else delete server.files[path];
}

/** A fresh browser context (its own origin storage). `quota` (bytes) is set through CDP before
 * the origin stores anything. */
export async function newContext({ quota } = {}) {
  if (ENGINE !== "chromium") {
    if (quota) throw new Error(`no quota override in ${ENGINE}`);
    return new SessionContext();
  }
  const context = await browser.newContext();
  if (quota) {
    // The override lasts as long as the DevTools session that set it: keep both open.
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: new URL(server.url).origin, quotaSize: quota });
    context.quotaKeeper = { page, cdp };
  }
  return context;
}

/** Chromium with its profile on disk at `dir`: a context whose origin storage (IndexedDB and
 * its Blob files) outlives it, for a test to change between two browsers. */
export async function persistentContext(dir) {
  if (ENGINE !== "chromium") throw new Error(`no persistent profile in ${ENGINE} here`);
  return launchPersistent(dir);
}

/** Opens the test page in `context` (pkg/ loaded). Page errors are collected, not thrown: a
 * crashed page is the point of these tests. */
export async function openPage(context) {
  if (context instanceof SessionContext) return context.openPage();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url());
  await page.waitForFunction(() => window.F && window.Rewind);
  return Object.assign(page, { errors });
}

/** Resolves when the page says `fault:…` (a fault point was reached). Over WebDriver it is
 * polled (F.said): only points where the page's main thread is free to answer can be seen,
 * such as a blocked upgrade, not the ones that hold the thread inside a transform. */
export function faultReached(page) {
  if (page instanceof WebDriverPage) {
    const seen = page.evaluate(() => F.said.length);
    return seen.then((n) => page.waitForFunction((n) => F.said.length > n, n, { timeout: 60_000 }))
      .then(() => page.evaluate(() => F.said.at(-1)));
  }
  return new Promise((ok) => {
    const on = (m) => { if (m.text().startsWith("fault:")) { page.off("console", on); ok(m.text()); } };
    page.on("console", on);
  });
}

/** The outcome of the operation F.start began: { ok } or { code, message }. Over WebDriver it
 * is polled, so that the session's other tabs can be driven while it runs. */
export async function outcome(page) {
  if (page instanceof WebDriverPage) await page.waitForFunction(() => window.opResult, undefined, { timeout: 300_000, polling: 50 });
  return page.evaluate(() => window.op);
}

/** How a page can be killed here: crashed or closed in Chromium; only closed over WebDriver. */
export const KILLS = ENGINE === "chromium" ? ["crash", "close"] : ["close"];

/** Kills the page's renderer (CDP Page.crash) or closes its target (CDP Target.closeTarget);
 * over WebDriver, closes its tab (WebDriver Close Window). */
export async function kill(page, how) {
  if (page instanceof WebDriverPage) {
    if (how !== "close") throw new Error(`${ENGINE}: a page can only be closed over WebDriver, not ${how}ed`);
    await page.closeTab();
    return;
  }
  const cdp = await page.context().newCDPSession(page);
  if (how === "crash") {
    const crashed = new Promise((ok) => page.once("crash", ok));
    cdp.send("Page.crash").catch(() => {});
    await crashed;
    await page.close().catch(() => {});
  } else {
    const { targetInfo } = await cdp.send("Target.getTargetInfo");
    const b = await browser.newBrowserCDPSession();
    const closed = new Promise((ok) => page.once("close", ok));
    await b.send("Target.closeTarget", { targetId: targetInfo.targetId });
    await closed;
    await b.detach();
  }
}

/** Which of the `expected` dumps (by name) `actual` equals, or null. */
export function whichOf(actual, expected) {
  const a = JSON.stringify(actual);
  for (const [name, d] of Object.entries(expected)) if (JSON.stringify(d) === a) return name;
  return null;
}

/** What differs between two dumps, briefly (for failure messages). */
export function describeDiff(a, b) {
  const out = [];
  if (a.exists !== b.exists) return `exists ${a.exists} vs ${b.exists}`;
  if (a.version !== b.version) out.push(`IDB version ${a.version} vs ${b.version}`);
  const names = new Set([...Object.keys(a.stores ?? {}), ...Object.keys(b.stores ?? {})]);
  for (const s of names) {
    const x = a.stores?.[s], y = b.stores?.[s];
    if (!x || !y) { out.push(`store ${s} only in ${x ? "first" : "second"}`); continue; }
    if (JSON.stringify(x.indexes) !== JSON.stringify(y.indexes)) out.push(`${s}: indexes differ`);
    // App records are shapes ({ t: "Array", v: [[index, record]…] }), Rewind's are parsed JSON.
    const [xv, yv] = [x.values, y.values].map((v) => (Array.isArray(v) ? v : v.v.map(([, r]) => r)));
    if (xv.length !== yv.length) out.push(`${s}: ${xv.length} vs ${yv.length} records`);
    else {
      const diff = xv.findIndex((v, i) => JSON.stringify(v) !== JSON.stringify(yv[i]));
      if (diff >= 0) out.push(`${s}: record ${diff} differs: ${JSON.stringify(xv[diff]).slice(0, 300)} vs ${JSON.stringify(yv[diff]).slice(0, 300)}`);
    }
  }
  return out.join("; ") || "equal";
}

export const MIGRATE_RECORDS = 1500;
export const RESTORE_RECORDS = 2000;

/** Builds the pristine database "P" for `op` (and, for a restore, the working database "w"
 * whose catalog holds the manual backup "source"); returns P's dump as JSON text. Migrate:
 * 1500 records at version 1 → 2. Rollback: the same at version 2 → 1. Restore: 2000 other
 * records at version 1 ← "source". RestoreHeld: "source" at version 1 ← the 2000 other records,
 * held in place by the restore of "source". */
export async function prepare(page, op) {
  return page.evaluate(async ({ op, m, r }) => {
    if (op === "migrate") await F.seed("P", { n: m, version: 1 });
    if (op === "rollback") await F.seed("P", { n: m, version: 2 });
    if (op === "restore") {
      // "w" holds a manual backup "source" (salt 7), then other data (salt 3): the state
      // the restore starts from. Its catalog keeps "source" for every run.
      await F.seed("w", { n: r, version: 1, salt: 7 });
      const rw = await F.open("w");
      await rw.backup("source");
      rw.close();
      await F.put("w", "items", F.records(r, 3));
      await F.put("w", "loose", ["other"], ["only"]);
      await F.clone("w", "P");
    }
    if (op === "restoreHeld") {
      // The same, restored to "source" once: the other data is held in place (its stores in
      // "w" itself), and the restore under test undoes that restore from it.
      await F.seed("w", { n: r, version: 1, salt: 7 });
      const rw = await F.open("w");
      const source = await rw.backup("source");
      await F.put("w", "items", F.records(r, 3));
      await F.put("w", "loose", ["other"], ["only"]);
      await rw.restore(source.id);
      rw.close();
      await F.clone("w", "P");
    }
    return JSON.stringify(await F.dump("P"));
  }, { op, m: MIGRATE_RECORDS, r: RESTORE_RECORDS });
}

/** The database, the raw journal and the checked catalog of "w", read from a fresh page. */
export async function inspectW(page, checked = []) {
  // Dumps travel as JSON text: much faster out of the page than as objects.
  const r = await page.evaluate(async (checked) => JSON.stringify({ dump: await F.dump("w"), journal: await F.journal("w"), catalog: await F.catalog("w", checked) }), checked);
  return JSON.parse(r);
}


/** Runs `op` to completion on a copy of P ("w"): the "after" dump and the duration (ms). */
export async function reference(page, op) {
  await page.evaluate(() => F.clone("P", "w"));
  const t0 = Date.now();
  await page.evaluate(({ op }) => F.start(op, "w"), { op });
  const result = await outcome(page);
  const duration = Date.now() - t0;
  if (!result.ok) throw new Error(`${op} runs uninterrupted: ${result.message}`);
  return { after: (await inspectW(page)).dump, duration };
}

/** A dump without Rewind's journal (to compare data, schema and metadata alone). */
export function withoutJournal(dump) {
  const { __rewind_journal, ...stores } = dump.stores;
  return { ...dump, stores };
}
