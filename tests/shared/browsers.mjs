// One way for the browser tiers to drive a page in any engine, chosen by REWIND_ENGINE
// (chromium, the default; firefox; webkit). Chromium runs on playwright-core (its pages are
// Playwright pages); Firefox and WebKit run over our own WebDriver client (webdriver.mjs), with
// a page that has the part of Playwright's Page the tests use: goto, evaluate,
// waitForFunction, url, title, reload, screenshot, setInputFiles (paths), and
// getByRole/getByLabel locators (click, innerText, waitFor).
//
// Each page is a fresh context with its own storage: a Playwright browser context, or a new
// WebDriver session (a new browser with a fresh profile).
import { launch, openPage } from "../e2e/harness.mjs";
import { startDriver, ELEMENT } from "./webdriver.mjs";
import { writeFile } from "node:fs/promises";

export const ENGINES = ["chromium", "firefox", "webkit"];

/** The engine the tests run in: REWIND_ENGINE, chromium by default. */
export const ENGINE = (() => {
  const e = process.env.REWIND_ENGINE ?? "chromium";
  if (!ENGINES.includes(e)) throw new Error(`REWIND_ENGINE=${e}: not one of ${ENGINES.join(", ")}`);
  return e;
})();

/** Starts the engine's browser (Chromium) or WebDriver server (Firefox, WebKit). */
export async function openBrowser(engine = ENGINE) {
  if (engine === "chromium") {
    const browser = await launch();
    return {
      engine,
      /** A page at `url` in a fresh context: { page, context, errors(), close() }. */
      async openPage(url, { allowErrors = false } = {}) {
        const { page, context, errors } = await openPage(browser, url, { allowErrors });
        return { page, context, errors, close: () => context.close() };
      },
      close: () => browser.close(),
    };
  }
  const driver = await startDriver(engine);
  return {
    engine,
    async openPage(url, { allowErrors = false, prefs } = {}) {
      const session = await driver.newSession({ prefs });
      const page = new WebDriverPage(session);
      try {
        await page.goto(url);
      } catch (e) {
        await session.delete().catch(() => {});
        throw e;
      }
      return {
        page,
        context: null,
        errors: async () => (allowErrors ? [] : await page.pageErrors()),
        close: () => session.delete(),
      };
    },
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

// In the page: the ARIA role and accessible name, as far as the tests need them.
const ROLES = `
  const __role = (el) => {
    const r = el.getAttribute("role");
    if (r) return r.split(" ")[0];
    const t = el.localName, type = (el.getAttribute("type") || "").toLowerCase();
    if (t === "button" || (t === "input" && ["button", "submit", "reset", "image"].includes(type))) return "button";
    if (t === "a" && el.hasAttribute("href")) return "link";
    if (/^h[1-6]$/.test(t)) return "heading";
    if (t === "input" && type === "checkbox") return "checkbox";
    if (t === "input" && type === "radio") return "radio";
    if (t === "textarea" || (t === "input" && ["", "text", "search", "email", "url", "tel"].includes(type))) return "textbox";
    if (t === "select") return el.multiple || el.size > 1 ? "listbox" : "combobox";
    if (t === "progress") return "progressbar";
    if (t === "output") return "status";
    if (t === "dialog") return "dialog";
    if (t === "table") return "table";
    if (t === "tr") return "row";
    if (t === "td") return "cell";
    if (t === "th") return "columnheader";
    if (t === "ul" || t === "ol") return "list";
    if (t === "li") return "listitem";
    if (t === "main") return "main";
    if (t === "nav") return "navigation";
    if (t === "form") return "form";
    if (t === "section" && (el.hasAttribute("aria-label") || el.hasAttribute("aria-labelledby"))) return "region";
    if (t === "img") return "img";
    return null;
  };
  const __text = (el) => (el.innerText ?? el.textContent ?? "").replace(/\\s+/g, " ").trim();
  const __labelled = (el) => {
    const by = el.getAttribute("aria-labelledby");
    if (by) return by.split(/\\s+/).map((id) => document.getElementById(id)).filter(Boolean).map(__text).join(" ");
    const aria = el.getAttribute("aria-label");
    if (aria) return aria.trim();
    if (el.labels && el.labels.length) return [...el.labels].map(__text).join(" ");
    return null;
  };
  const __name = (el) => {
    const l = __labelled(el);
    if (l !== null) return l;
    const role = __role(el);
    if (["button", "link", "heading", "checkbox", "radio", "cell", "columnheader", "listitem", "row", "tab", "option", "menuitem"].includes(role)) {
      return el.localName === "input" ? (el.value || "") : __text(el);
    }
    return el.getAttribute("title") || el.getAttribute("alt") || "";
  };
  const __visible = (el) => el.checkVisibility ? el.checkVisibility() : !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const __matches = (text, want) => want.re
    ? new RegExp(want.re[0], want.re[1]).test(text)
    : want.exact ? text === want.s : text.toLowerCase().includes(want.s.toLowerCase());
  const __find = (q) => [...document.querySelectorAll("*")].filter((el) => {
    if (!__visible(el)) return false;
    if (q.role && __role(el) !== q.role) return false;
    if (q.name && !__matches(q.role ? __name(el) : (__labelled(el) ?? ""), q.name)) return false;
    return true;
  });
`;

function textQuery(name, exact) {
  if (name === undefined) return undefined;
  if (name instanceof RegExp) return { re: [name.source, name.flags] };
  return { s: String(name), exact: !!exact };
}

export class WebDriverPage {
  constructor(session) {
    this.session = session;
    this.defaultTimeout = 30_000;
  }

  async goto(url) {
    await this.session.navigate(url);
    await this.watchErrors();
  }

  async reload() {
    await this.session.refresh();
    await this.watchErrors();
  }

  /** Collects uncaught errors, unhandled rejections and console errors from now on. */
  async watchErrors() {
    await this.session.execute(`
      if (!window.__rewindErrors) {
        const errors = window.__rewindErrors = [];
        addEventListener("error", (e) => errors.push(String(e.error ?? e.message)));
        addEventListener("unhandledrejection", (e) => errors.push("unhandled rejection: " + String(e.reason)));
        const original = console.error;
        console.error = (...args) => { errors.push(args.map(String).join(" ")); return original.apply(console, args); };
      }
    `);
  }

  async pageErrors() {
    try {
      return (await this.session.execute("return window.__rewindErrors ?? []")) ?? [];
    } catch (e) {
      return [`could not read the page's errors: ${e.message}`];
    }
  }

  url() { return this.session.url(); }
  title() { return this.session.title(); }

  async screenshot({ path } = {}) {
    const png = await this.session.screenshot();
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
    const answer = await this.session.executeAsync(script, [arg === undefined ? null : JSON.stringify(arg), body]);
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

  /** Chooses files (paths on this machine) in the file input `selector`. */
  async setInputFiles(selector, files) {
    const paths = [files].flat();
    if (paths.some((p) => typeof p !== "string")) throw new Error("setInputFiles over WebDriver takes paths");
    await this.session.sendKeys(await this.session.findElement(selector), paths.join("\n"));
  }

  getByRole(role, { name, exact } = {}) {
    return new Locator(this, { role, name: textQuery(name, exact) }, `getByRole(${role}, ${name ?? ""})`);
  }

  getByLabel(label, { exact } = {}) {
    return new Locator(this, { name: textQuery(label, exact) }, `getByLabel(${label})`);
  }
}

class Locator {
  constructor(page, query, description) {
    this.page = page;
    this.query = query;
    this.description = description;
  }

  /** The one element matching, waited for (a DOM element reference). */
  async element({ timeout = this.page.defaultTimeout } = {}) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = await this.page.session.execute(`${ROLES}; return __find(arguments[0]);`, [this.query]);
      if (found.length > 1) throw new Error(`${this.description}: ${found.length} elements match`);
      if (found.length === 1) return found[0];
      if (Date.now() > deadline) throw new Error(`${this.description}: no element within ${timeout} ms`);
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }

  async waitFor(options) { await this.element(options); }
  async count() {
    return (await this.page.session.execute(`${ROLES}; return __find(arguments[0]).length;`, [this.query]));
  }
  async click(options) { await this.page.session.click(await this.element(options)); }
  async innerText(options) {
    return this.page.session.execute("return arguments[0].innerText", [await this.element(options)]);
  }
  async textContent(options) {
    return this.page.session.execute("return arguments[0].textContent", [await this.element(options)]);
  }
  async isVisible() { return (await this.count()) === 1; }
  async isChecked(options) {
    return this.page.session.execute("return !!arguments[0].checked", [await this.element(options)]);
  }
  async isDisabled(options) {
    return this.page.session.execute("return !!arguments[0].disabled", [await this.element(options)]);
  }
}

export { ELEMENT };
