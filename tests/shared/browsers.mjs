// One way for the browser tiers to drive a page in any engine, chosen by REWIND_ENGINE
// (chromium, the default; firefox; webkit). Chromium runs on playwright-core (its pages are
// Playwright pages); Firefox and WebKit run over our own WebDriver client (webdriver.mjs), with
// a page that has the part of Playwright's Page the tests use: goto, evaluate,
// waitForFunction, url, title, reload, screenshot, setInputFiles (paths), waitForEvent
// ("download", caught in the page), and locators by role, label, text and CSS (chained and
// filtered; click, fill, check, selectOption, setInputFiles, innerText, getAttribute, waitFor…).
//
// Each page is a fresh context with its own storage: a Playwright browser context, or a new
// WebDriver session (a new browser with a fresh profile). openTab opens another tab of the same
// context (same storage), for the tests that need two.
import { launch, openPage } from "../e2e/harness.mjs";
import { startDriver, ELEMENT } from "./webdriver.mjs";
import { writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ENGINES = ["chromium", "firefox", "webkit"];

/** The engine the tests run in: REWIND_ENGINE, chromium by default. */
export const ENGINE = (() => {
  const e = process.env.REWIND_ENGINE ?? "chromium";
  if (!ENGINES.includes(e)) throw new Error(`REWIND_ENGINE=${e}: not one of ${ENGINES.join(", ")}`);
  return e;
})();

/** Starts the engine's browser (Chromium) or WebDriver server (Firefox, WebKit).
 * `closePages()` closes every page still open (for afterEach: a failed test leaves its page
 * open, and geckodriver holds one session at a time). */
export async function openBrowser(engine = ENGINE) {
  const open = new Set();
  const track = (page) => {
    const close = page.close;
    page.close = async () => { open.delete(page); await close(); };
    open.add(page);
    return page;
  };
  const closePages = async () => { for (const p of [...open]) await p.close().catch(() => {}); };
  if (engine === "chromium") {
    const browser = await launch();
    return {
      engine,
      /** A page at `url` in a fresh context: { page, context, errors(), openTab(url), close() }. */
      async openPage(url, { allowErrors = false } = {}) {
        const { page, context, errors } = await openPage(browser, url, { allowErrors });
        const openTab = async (at) => {
          const tab = await context.newPage();
          await tab.goto(at);
          return tab;
        };
        return track({ page, context, errors, openTab, close: () => context.close() });
      },
      closePages,
      close: () => browser.close(),
    };
  }
  const driver = await startDriver(engine);
  return {
    engine,
    async openPage(url, { allowErrors = false, prefs } = {}) {
      const session = await driver.newSession({ prefs });
      const page = new WebDriverPage(session, await session.windowHandle());
      try {
        await page.goto(url);
      } catch (e) {
        await session.delete().catch(() => {});
        throw e;
      }
      return track({
        page,
        context: null,
        errors: async () => (allowErrors ? [] : await page.pageErrors()),
        openTab: (at) => page.openTab(at),
        close: () => session.delete(),
      });
    },
    closePages,
    close: () => driver.stop(),
  };
}

// In the page: results travel as a tagged JSON tree, so undefined, NaN, -0, ±Infinity, bigint,
// Date, RegExp, Map, Set, typed arrays and strings with lone surrogates come back as Playwright
// would give them.
const ENCODE = `
  const __encode = (v, seen = new Set()) => {
    if (v === undefined || typeof v === "function" || typeof v === "symbol") return { $: "u" };
    if (typeof v === "number") {
      if (Number.isNaN(v)) return { $: "n", v: "NaN" };
      if (v === Infinity) return { $: "n", v: "Infinity" };
      if (v === -Infinity) return { $: "n", v: "-Infinity" };
      if (Object.is(v, -0)) return { $: "n", v: "-0" };
      return v;
    }
    if (typeof v === "bigint") return { $: "b", v: String(v) };
    // A lone surrogate is no valid JSON text for every WebDriver server: as code units.
    if (typeof v === "string" && !v.isWellFormed()) return { $: "t", v: Array.from({ length: v.length }, (_, i) => v.charCodeAt(i)) };
    if (v === null || typeof v !== "object") return v;
    if (seen.has(v)) return { $: "u" };
    seen.add(v);
    try {
      if (v instanceof Date) return { $: "d", v: v.getTime() };
      if (v instanceof RegExp) return { $: "r", v: [v.source, v.flags] };
      if (v instanceof Error) return { $: "e", v: { name: v.name, message: v.message, stack: String(v.stack) } };
      if (ArrayBuffer.isView(v)) return { $: "a", v: Array.from(v, (x) => __encode(x, seen)) };
      if (Array.isArray(v)) return { $: "a", v: Array.from(v, (x) => __encode(x, seen)) };
      if (v instanceof Map) return { $: "m", v: [...v].map(([k, x]) => [__encode(k, seen), __encode(x, seen)]) };
      if (v instanceof Set) return { $: "s", v: [...v].map((x) => __encode(x, seen)) };
      if (typeof Node !== "undefined" && v instanceof Node) return { $: "o", v: {} };
      const o = {};
      for (const k of Object.keys(v)) o[k] = __encode(v[k], seen);
      return { $: "o", v: o };
    } finally {
      seen.delete(v);
    }
  };
`;

function decode(t) {
  if (t === null || typeof t !== "object") return t;
  switch (t.$) {
    case "u": return undefined;
    case "n": return t.v === "-0" ? -0 : Number(t.v);
    case "b": return BigInt(t.v);
    case "t": return String.fromCharCode(...t.v);
    case "d": return new Date(t.v);
    case "r": return new RegExp(t.v[0], t.v[1]);
    case "e": return Object.assign(new Error(t.v.message), { name: t.v.name, pageStack: t.v.stack });
    case "a": return t.v.map(decode);
    case "m": return new Map(t.v.map(([k, x]) => [decode(k), decode(x)]));
    case "s": return new Set(t.v.map(decode));
    case "o": return Object.fromEntries(Object.entries(t.v).map(([k, x]) => [k, decode(x)]));
    default: throw new Error(`cannot decode ${JSON.stringify(t).slice(0, 200)}`);
  }
}

function textQuery(text, exact) {
  if (text === undefined) return undefined;
  if (text instanceof RegExp) return { re: [text.source, text.flags] };
  return { s: String(text), exact: !!exact };
}

// The in-page locator engine (tests/shared/locate.js), sent at the start of every script that
// looks an element up.
const LOCATE = readFileSync(new URL("./locate.js", import.meta.url), "utf8");

// In the page, after every load: uncaught errors, unhandled rejections and console errors are
// collected, and the page's downloads are caught. A download in WebDriver cannot be caught as
// Playwright does (no download event, and the browser's save dialog or folder is out of reach),
// so what the page hands the browser is kept instead: the name of the <a download> it clicks and
// the Blob its object URL was made of. The browser's own saving is left out (the anchor's click
// goes no further), which is the part of a download that is the browser's, not Rewind's.
const INSTRUMENT = `
  const w = window.wrappedJSObject ?? window;
  if (!w.__rewindErrors) {
    const errors = w.__rewindErrors = [];
    w.addEventListener("error", (e) => errors.push(String(e.error ?? e.message)));
    w.addEventListener("unhandledrejection", (e) => errors.push("unhandled rejection: " + String(e.reason)));
    const original = w.console.error;
    w.console.error = function (...args) { errors.push(args.map(String).join(" ")); return original.apply(w.console, args); };

    const downloads = w.__rewindDownloads = [];
    const blobs = new Map();
    const createObjectURL = w.URL.createObjectURL;
    w.URL.createObjectURL = function (object) {
      const url = createObjectURL.call(w.URL, object);
      blobs.set(url, object);
      return url;
    };
    const revokeObjectURL = w.URL.revokeObjectURL;
    w.URL.revokeObjectURL = function (url) {
      blobs.delete(url);
      return revokeObjectURL.call(w.URL, url);
    };
    const click = w.HTMLElement.prototype.click;
    w.HTMLElement.prototype.click = function () {
      if (this.localName === "a" && this.hasAttribute("download")) {
        downloads.push({ name: this.download, href: this.href, blob: blobs.get(this.href) ?? null });
        return;
      }
      return click.call(this);
    };
  }
`;

/** A WebDriver page: one window (tab) of a session. Commands of one session go out one at a
 * time, each after switching to its page's window, so several pages of one session (tabs
 * sharing storage) can be driven in turn. */
export class WebDriverPage {
  constructor(session, handle) {
    this.session = session;
    this.handle = handle;
    this.defaultTimeout = 30_000;
    this.downloadsTaken = 0;
  }

  /** Runs `f(session)` with this page's window the current one. */
  do(f) {
    const session = this.session;
    const run = (session.queue ?? Promise.resolve()).then(async () => {
      if (this.handle && session.currentWindow !== this.handle) {
        await session.switchToWindow(this.handle);
        session.currentWindow = this.handle;
      }
      return f(session);
    });
    session.queue = run.catch(() => {});
    return run;
  }

  async goto(url) {
    await this.do((s) => s.navigate(url));
    await this.instrument();
  }

  async reload() {
    await this.do((s) => s.refresh());
    await this.instrument();
  }

  async instrument() {
    this.downloadsTaken = 0;
    await this.do((s) => s.execute(INSTRUMENT));
  }

  /** Another tab of the same session (same storage) at `url`. */
  async openTab(url) {
    const { handle } = await this.do((s) => s.newWindow("tab"));
    const page = new WebDriverPage(this.session, handle);
    await page.goto(url);
    return page;
  }

  /** Closes this page's tab, whatever it is doing (as a person closing it would). */
  async closeTab() {
    await this.do(async (s) => {
      await s.closeWindow();
      s.currentWindow = null;
    });
  }

  async pageErrors() {
    try {
      return (await this.do((s) => s.execute("return (window.wrappedJSObject ?? window).__rewindErrors ?? []"))) ?? [];
    } catch (e) {
      return [`could not read the page's errors: ${e.message}`];
    }
  }

  /** Playwright's setViewportSize over WebDriver, which sets only the outer window: the window
   * is sized, the viewport (innerWidth/innerHeight) measured, and the window sized again by the
   * difference (toolbars, borders). Throws `ViewportError` naming the engine when the viewport
   * still is not the size asked (a window manager or minimum window size may refuse it). */
  async setViewportSize({ width, height }) {
    const inner = () => this.do((s) => s.execute("return [window.innerWidth, window.innerHeight]"));
    await this.do((s) => s.setWindowRect({ width, height }));
    for (let attempt = 0; attempt < 3; attempt++) {
      const [w, h] = await inner();
      if (w === width && h === height) return;
      const outer = await this.do((s) => s.windowRect());
      await this.do((s) => s.setWindowRect({ width: outer.width + width - w, height: outer.height + height - h }));
    }
    const [w, h] = await inner();
    if (w !== width || h !== height) {
      throw new ViewportError(`${this.session.driver.engine}: WebDriver Set Window Rect gave a ${w}×${h} viewport, not ${width}×${height}`);
    }
  }

  url() { return this.do((s) => s.url()); }
  title() { return this.do((s) => s.title()); }

  async screenshot({ path } = {}) {
    const png = await this.do((s) => s.screenshot());
    if (path) await writeFile(path, png);
    return png;
  }

  /** Runs `f` (a function, sent as its source, called with `arg`) or a string of script (run
   * by global eval) in the page; resolves to its (awaited) result. */
  async evaluate(f, arg) {
    return this.run(typeof f === "function" ? `(${f.toString()})(__arg)` : `(0, eval)(${JSON.stringify(String(f))})`, arg);
  }

  async run(call, arg) {
    // The code is made a function of the page's own realm (its Function constructor): in
    // Firefox, WebDriver scripts run in a sandbox whose object literals have another
    // Object.prototype than the page's, which the page's code may tell apart. The argument
    // travels as JSON and is parsed there too.
    const body = `
      ${ENCODE}
      const __arg = __argText === null ? undefined : JSON.parse(__argText);
      return Promise.resolve().then(() => ${call}).then(
        (v) => ({ ok: __encode(v) }),
        (e) => ({ error: { name: e?.name, message: e?.message ?? String(e), stack: String(e?.stack ?? "") } }));
    `;
    // A page whose CSP forbids eval (the recovery page) gets the code as part of the WebDriver
    // script itself, which no page CSP governs.
    const script = `
      const __done = arguments[arguments.length - 1];
      let f;
      try { f = new window.Function("__argText", arguments[1]); } catch (e) { f = function (__argText) { ${body} }; }
      f(arguments[0]).then(__done, (e) => __done({ error: { name: "Error", message: String(e), stack: "" } }));
    `;
    const answer = await this.do((s) => s.executeAsync(script, [arg === undefined ? null : JSON.stringify(arg), body]));
    if (answer?.error) {
      const e = new Error(`page.evaluate: ${answer.error.name}: ${answer.error.message}`);
      e.pageStack = answer.error.stack;
      throw e;
    }
    return decode(answer?.ok);
  }

  /** Waits until `f(arg)` is truthy in the page. */
  async waitForFunction(f, arg, { timeout = this.defaultTimeout, polling = 100 } = {}) {
    const deadline = Date.now() + timeout;
    let last;
    for (;;) {
      try {
        const call = typeof f === "function" ? `(${f.toString()})(__arg)` : `(0, eval)(${JSON.stringify(String(f))})`;
        if (await this.run(`Promise.resolve(${call}).then((v) => !!v)`, arg)) return true;
      } catch (e) {
        last = e;
      }
      if (Date.now() > deadline) {
        throw new Error(`waitForFunction timed out after ${timeout} ms${last ? `: ${last.message}` : ""}: ${String(f).slice(0, 200)}`);
      }
      await new Promise((ok) => setTimeout(ok, polling));
    }
  }

  /** The next download the page makes (see INSTRUMENT): Playwright's Download, in part. */
  async waitForEvent(event, { timeout = this.defaultTimeout } = {}) {
    if (event !== "download") throw new Error(`waitForEvent(${event}): only "download" is caught over WebDriver`);
    const index = this.downloadsTaken++;
    const deadline = Date.now() + timeout;
    for (;;) {
      const count = await this.do((s) => s.execute("return (window.wrappedJSObject ?? window).__rewindDownloads.length"));
      if (count > index) {
        const download = new Download(this, index);
        ({ name: download.name } = await download.entry());
        return download;
      }
      if (Date.now() > deadline) throw new Error(`no download within ${timeout} ms`);
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }

  /** Chooses files (paths on this machine) in the file input `selector`. */
  async setInputFiles(selector, files) {
    await this.locator(selector).setInputFiles(files);
  }

  getByRole(role, options) { return new Locator(this, []).getByRole(role, options); }
  getByLabel(label, options) { return new Locator(this, []).getByLabel(label, options); }
  getByText(text, options) { return new Locator(this, []).getByText(text, options); }
  locator(css) { return new Locator(this, []).locator(css); }
}

/** The engine could not give the page the viewport size a test asked for. */
export class ViewportError extends Error {
  constructor(message) {
    super(message);
    this.name = "ViewportError";
  }
}

/** A file the page handed the browser to save. */
class Download {
  constructor(page, index) {
    this.page = page;
    this.index = index;
    this.saved = null;
    this.name = null;
  }

  async entry() {
    return this.page.do((s) => s.execute(`
      const d = (window.wrappedJSObject ?? window).__rewindDownloads[arguments[0]];
      return { name: d.name, href: d.href, isBlob: !!d.blob };
    `, [this.index]));
  }

  suggestedFilename() { return this.name; }

  /** The bytes of the Blob the page's object URL was made of (fetched from the URL if the
   * page made it some other way). */
  async bytes() {
    const base64 = await this.page.do((s) => s.executeAsync(`
      const done = arguments[arguments.length - 1];
      const w = window.wrappedJSObject ?? window;
      const d = w.__rewindDownloads[arguments[0]];
      const blob = d.blob ? Promise.resolve(d.blob) : w.fetch(d.href).then((r) => r.blob());
      blob.then((b) => new Promise((ok, fail) => {
        const reader = new w.FileReader();
        reader.onload = () => ok(String(reader.result).replace(/^data:[^,]*,/, ""));
        reader.onerror = () => fail(reader.error);
        reader.readAsDataURL(b);
      })).then(done, (e) => done({ error: String(e) }));
    `, [this.index]));
    if (base64?.error) throw new Error(`the download's bytes could not be read: ${base64.error}`);
    return Buffer.from(base64, "base64");
  }

  async saveAs(path) {
    await writeFile(path, await this.bytes());
    this.saved = path;
  }

  async path() {
    if (!this.saved) await this.saveAs(join(tmpdir(), `rewind-download-${process.pid}-${this.index}-${Date.now()}`));
    return this.saved;
  }
}

/** Playwright's Locator, the part the tests use: a chain of steps (locate.js) looked up again
 * for every action, waited for as Playwright does, and strict (an action on more than one
 * element fails). */
class Locator {
  constructor(page, steps) {
    this.page = page;
    this.steps = steps;
  }

  with(step) { return new Locator(this.page, [...this.steps, step]); }
  getByRole(role, { name, exact, level } = {}) { return this.with({ by: "role", role, name: textQuery(name, exact), level }); }
  getByLabel(label, { exact } = {}) { return this.with({ by: "label", text: textQuery(label, exact) }); }
  getByText(text, { exact } = {}) { return this.with({ by: "text", text: textQuery(text, exact) }); }
  locator(css) { return this.with({ by: "css", css }); }
  filter({ hasText, has } = {}) {
    return this.with({ by: "filter", hasText: textQuery(hasText), has: has?.steps });
  }

  get description() { return `locator ${JSON.stringify(this.steps)}`; }

  /** { count, visible } of what the chain finds now; `element` when exactly one is found. */
  async look() {
    return this.page.do((s) => s.execute(`${LOCATE}
      const found = rewindLocate(arguments[0]);
      return { count: found.length, element: found.length === 1 ? found[0] : null,
               visible: found.length === 1 && rewindVisible(found[0]),
               enabled: found.length === 1 && !found[0].disabled };`, [this.steps]));
  }

  /** Waits until the one element is found (and `visible`/`enabled` when asked); resolves to it. */
  async element({ timeout = this.page.defaultTimeout, visible = false, enabled = false } = {}) {
    const deadline = Date.now() + timeout;
    let last;
    for (;;) {
      last = await this.look();
      if (last.count > 1) throw new Error(`${this.description}: strict mode violation, ${last.count} elements match`);
      if (last.count === 1 && (!visible || last.visible) && (!enabled || last.enabled)) return last.element;
      if (Date.now() > deadline) {
        throw new Error(`${this.description}: ${last.count === 0 ? "no element" : visible && !last.visible ? "not visible" : "not enabled"} within ${timeout} ms`);
      }
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }

  /** Waits for the state Playwright names: visible (default), attached, detached, hidden. */
  async waitFor({ state = "visible", timeout = this.page.defaultTimeout } = {}) {
    if (state === "visible" || state === "attached") {
      await this.element({ timeout, visible: state === "visible" });
      return;
    }
    const deadline = Date.now() + timeout;
    for (;;) {
      const now = await this.look();
      if (now.count === 0 || (state === "hidden" && now.count === 1 && !now.visible)) return;
      if (Date.now() > deadline) throw new Error(`${this.description}: still ${state === "hidden" ? "visible" : "attached"} after ${timeout} ms`);
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }

  async count() { return (await this.look()).count; }
  async isVisible() { const now = await this.look(); return now.count === 1 && now.visible; }

  async on(script, options) {
    const element = await this.element(options);
    return this.page.do((s) => s.execute(script, [element]));
  }

  innerText(options) { return this.on("return arguments[0].innerText", options); }
  textContent(options) { return this.on("return arguments[0].textContent", options); }
  getAttribute(name, options) { return this.on(`return arguments[0].getAttribute(${JSON.stringify(name)})`, options); }
  isChecked(options) { return this.on("return !!arguments[0].checked", options); }
  isDisabled(options) { return this.on("return !!arguments[0].disabled", options); }
  async isEnabled(options) { return !(await this.isDisabled(options)); }

  /** A WebDriver click (real pointer events), once the element is visible and enabled,
   * scrolled into view first as Playwright does (WebKit's WebDriver does not scroll a
   * scrolled container, such as a tall dialog, to the element: "element not interactable"). */
  async click(options) {
    const element = await this.element({ ...options, visible: true, enabled: true });
    await this.page.do((s) => s.execute("arguments[0].scrollIntoView({ block: 'center' })", [element]));
    await this.page.do((s) => s.click(element));
  }

  /** Ticks a checkbox by clicking it, unless it is ticked already. */
  async check(options) {
    if (await this.isChecked(options)) return;
    await this.click(options);
    if (!(await this.isChecked(options))) throw new Error(`${this.description}: still not checked after a click`);
  }

  /** Empties the field, then types `text` into it (WebDriver Element Clear and Send Keys). */
  async fill(text, options) {
    const element = await this.element({ ...options, visible: true, enabled: true });
    await this.page.do(async (s) => {
      await s.clear(element);
      if (text !== "") await s.sendKeys(element, text);
    });
  }

  /** Selects the option of a <select> whose value or label is `value`, and dispatches input and
   * change, as Playwright's selectOption does. */
  async selectOption(value, { timeout = this.page.defaultTimeout } = {}) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const element = await this.element({ timeout, visible: true, enabled: true });
      const chosen = await this.page.do((s) => s.execute(`
        const select = arguments[0], want = arguments[1];
        const option = [...select.options].find((o) => o.value === want) ?? [...select.options].find((o) => o.label === want);
        if (!option) return null;
        select.value = option.value;
        select.dispatchEvent(new Event("input", { bubbles: true }));
        select.dispatchEvent(new Event("change", { bubbles: true }));
        return option.value;
      `, [element, String(value)]));
      if (chosen !== null) return [chosen];
      if (Date.now() > deadline) throw new Error(`${this.description}: no option ${value} within ${timeout} ms`);
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }

  /** Chooses files (paths on this machine) in a file input: WebDriver Send Keys with the paths. */
  async setInputFiles(files, options) {
    const paths = [files].flat();
    if (paths.some((p) => typeof p !== "string")) throw new Error("setInputFiles over WebDriver takes paths");
    const element = await this.element(options);
    await this.page.do((s) => s.sendKeys(element, paths.join("\n")));
  }
}

export { ELEMENT };
