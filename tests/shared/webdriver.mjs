// A small W3C WebDriver client of our own (plain HTTP over fetch), and the driver processes it
// talks to: geckodriver for Firefox ESR, WebKitWebDriver + MiniBrowser under xvfb-run for
// WebKitGTK. Playwright cannot drive Debian's stock Firefox or WebKit, and cannot download its
// own builds here.
//
//   const driver = await startDriver("firefox");
//   const session = await driver.newSession();
//   await session.navigate(url);
//   const value = await session.executeAsync("arguments[0](42)");
//   await session.delete(); await driver.stop();
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { existsSync } from "node:fs";
import { join } from "node:path";

/** The key W3C WebDriver uses for an element reference. */
export const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

/** An error the remote end answered with: `error` is the W3C error code ("script timeout"…). */
export class WebDriverError extends Error {
  constructor(command, status, error, message) {
    super(`WebDriver ${command}: ${error}: ${message}`);
    this.name = "WebDriverError";
    this.status = status;
    this.error = error;
  }
}

async function freePort() {
  const server = createServer();
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address();
  await new Promise((ok) => server.close(ok));
  return port;
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** How long one command may take before it is given up: above the session's script timeout
 * (120 s), so a script that never settles is the remote end's "script timeout" first. */
export const COMMAND_TIMEOUT_MS = 180_000;

/** One HTTP command to a remote end; resolves to the answer's `value`. A command that gets no
 * answer within `timeout` ms fails (a driver whose browser never came up, say). */
export async function command(base, method, path, body, { timeout = COMMAND_TIMEOUT_MS } = {}) {
  const what = `${method} ${path}`;
  let res;
  try {
    res = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json; charset=utf-8" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeout),
    });
  } catch (e) {
    if (e?.name === "TimeoutError") throw new WebDriverError(what, 0, "no answer", `none within ${timeout} ms`);
    throw e;
  }
  const text = await res.text();
  let answer;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new WebDriverError(what, res.status, "invalid answer", text.slice(0, 500));
  }
  const value = answer?.value;
  if (!res.ok || (value && typeof value === "object" && typeof value.error === "string")) {
    throw new WebDriverError(what, res.status, value?.error ?? `HTTP ${res.status}`, value?.message ?? text.slice(0, 500));
  }
  return value;
}

/** Where each engine's browser and driver are (Debian's packages). */
export const ENGINES = {
  firefox: {
    driver: () => process.env.GECKODRIVER ?? findOnPath("geckodriver", [`${process.env.HOME}/.cargo/bin/geckodriver`]),
    binary: () => process.env.FIREFOX_BIN ?? "/usr/bin/firefox-esr",
  },
  webkit: {
    driver: () => process.env.WEBKIT_DRIVER ?? "/usr/bin/WebKitWebDriver",
    binary: () => process.env.MINIBROWSER_BIN ?? findMiniBrowser(),
  },
};

function findOnPath(name, extra = []) {
  for (const dir of [...(process.env.PATH ?? "").split(":"), ...extra.map((p) => p.replace(/\/[^/]+$/, ""))]) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return name;
}

export function findMiniBrowser() {
  for (const api of ["webkit2gtk-4.1", "webkit2gtk-4.0", "webkitgtk-6.0"]) {
    for (const arch of ["x86_64-linux-gnu", "aarch64-linux-gnu"]) {
      const p = `/usr/lib/${arch}/${api}/MiniBrowser`;
      if (existsSync(p)) return p;
    }
  }
  return "MiniBrowser";
}

/** The capabilities of a new session of `engine` (headless Firefox, MiniBrowser in automation
 * mode on the virtual display). `prefs` are Firefox preferences. */
export function capabilities(engine, { prefs = {} } = {}) {
  if (engine === "firefox") {
    return {
      browserName: "firefox",
      acceptInsecureCerts: true,
      "moz:firefoxOptions": {
        binary: ENGINES.firefox.binary(),
        args: ["-headless"],
        prefs: {
          "browser.shell.checkDefaultBrowser": false,
          "datareporting.policy.dataSubmissionEnabled": false,
          ...prefs,
        },
      },
    };
  }
  if (engine === "webkit") {
    return {
      browserName: "MiniBrowser",
      "webkitgtk:browserOptions": { binary: ENGINES.webkit.binary(), args: ["--automation"] },
    };
  }
  throw new Error(`unknown engine ${engine} (firefox, webkit; chromium runs on playwright-core)`);
}

/** Starts the driver of `engine` on a free loopback port and waits until it is ready.
 * WebKit's runs under `xvfb-run -a` (MiniBrowser needs a display). */
export async function startDriver(engine, { log = process.env.WEBDRIVER_LOG === "1" } = {}) {
  const { base, child } = await spawnDriver(engine, log);
  return new Driver(engine, base, child, log);
}

async function spawnDriver(engine, log) {
  const port = await freePort();
  let child;
  if (engine === "firefox") {
    child = spawn(ENGINES.firefox.driver(), ["--host", "127.0.0.1", "--port", String(port)], {
      stdio: ["ignore", log ? "inherit" : "ignore", log ? "inherit" : "ignore"],
      detached: true,
    });
  } else if (engine === "webkit") {
    child = spawn("xvfb-run", ["-a", "-s", "-screen 0 1280x1024x24", ENGINES.webkit.driver(), `--port=${port}`, "--host=127.0.0.1"], {
      stdio: ["ignore", log ? "inherit" : "ignore", log ? "inherit" : "ignore"],
      detached: true,
    });
  } else {
    throw new Error(`unknown engine ${engine}`);
  }
  let exited = null;
  child.on("exit", (code, signal) => { exited = { code, signal }; });
  child.on("error", (e) => { exited = { error: e }; });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`the ${engine} WebDriver server stopped at once: ${JSON.stringify(exited)}`);
    try {
      const status = await command(base, "GET", "/status", undefined, { timeout: 5_000 });
      if (status?.ready !== false) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      stop(child);
      throw new Error(`the ${engine} WebDriver server did not answer on ${base} within 30 s`);
    }
    await sleep(100);
  }
  return { base, child };
}

function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const gone = new Promise((ok) => child.once("exit", ok));
  // The driver was started in its own process group: end it and what it started (xvfb-run's
  // Xvfb, the browser), and nothing else.
  try { process.kill(-child.pid, "SIGTERM"); } catch { /* already gone */ }
  const timer = setTimeout(() => { try { process.kill(-child.pid, "SIGKILL"); } catch { /* gone */ } }, 5_000);
  return gone.finally(() => clearTimeout(timer));
}

/** How long a new session (a browser starting) may take before the driver is restarted. */
const SESSION_START_MS = 60_000;

export class Driver {
  constructor(engine, base, child, log) {
    this.engine = engine;
    this.base = base;
    this.child = child;
    this.log = log;
    this.sessions = new Set();
  }

  /** A fresh driver process in place of this one (its sessions are gone with it). */
  async restart() {
    this.sessions.clear();
    await stop(this.child);
    ({ base: this.base, child: this.child } = await spawnDriver(this.engine, this.log));
  }

  /** A new session: a new browser with a fresh profile (its own storage; geckodriver makes a
   * temporary profile per session, MiniBrowser in automation mode an ephemeral one). */
  async newSession({ prefs, timeouts = { script: 120_000, pageLoad: 60_000, implicit: 0 } } = {}) {
    const caps = capabilities(this.engine, { prefs });
    let value;
    for (let attempt = 1; ; attempt++) {
      try {
        value = await command(this.base, "POST", "/session", { capabilities: { alwaysMatch: caps } },
          { timeout: SESSION_START_MS });
        break;
      } catch (e) {
        // A browser that did not come up (WebKitWebDriver then waits for it forever) is tried
        // again once, with a fresh driver if there was no answer at all.
        if (attempt >= 2) throw e;
        if (e instanceof WebDriverError && e.error === "no answer") await this.restart();
        else await sleep(500);
      }
    }
    const session = new Session(this, value.sessionId, value.capabilities);
    this.sessions.add(session);
    await session.setTimeouts(timeouts);
    return session;
  }

  async stop() {
    for (const s of [...this.sessions]) await s.delete().catch(() => {});
    await stop(this.child);
  }
}

export class Session {
  constructor(driver, id, caps) {
    this.driver = driver;
    this.id = id;
    this.capabilities = caps;
  }

  cmd(method, path, body) {
    return command(this.driver.base, method, `/session/${this.id}${path}`, body);
  }

  setTimeouts(t) { return this.cmd("POST", "/timeouts", t); }
  navigate(url) { return this.cmd("POST", "/url", { url }); }
  url() { return this.cmd("GET", "/url"); }
  title() { return this.cmd("GET", "/title"); }
  refresh() { return this.cmd("POST", "/refresh", {}); }
  /** Runs `script` (a function body) with `args`; resolves to what it returns. */
  execute(script, args = []) { return this.cmd("POST", "/execute/sync", { script, args }); }
  /** Runs `script` (a function body) whose last argument is the callback to call with the result. */
  executeAsync(script, args = []) { return this.cmd("POST", "/execute/async", { script, args }); }
  /** A PNG of the viewport, as bytes. */
  async screenshot() { return Buffer.from(await this.cmd("GET", "/screenshot"), "base64"); }
  findElement(css) { return this.cmd("POST", "/element", { using: "css selector", value: css }); }
  click(element) { return this.cmd("POST", `/element/${element[ELEMENT]}/click`, {}); }
  text(element) { return this.cmd("GET", `/element/${element[ELEMENT]}/text`); }
  /** Types `text` into an element (for a file input: a path of this machine). */
  sendKeys(element, text) { return this.cmd("POST", `/element/${element[ELEMENT]}/value`, { text }); }
  /** Empties an editable element (W3C Element Clear). */
  clear(element) { return this.cmd("POST", `/element/${element[ELEMENT]}/clear`, {}); }
  /** The window's outer size and place (W3C Get/Set Window Rect). */
  windowRect() { return this.cmd("GET", "/window/rect"); }
  setWindowRect(rect) { return this.cmd("POST", "/window/rect", rect); }
  windowHandle() { return this.cmd("GET", "/window"); }
  windowHandles() { return this.cmd("GET", "/window/handles"); }
  newWindow(type = "tab") { return this.cmd("POST", "/window/new", { type }); }
  switchToWindow(handle) { return this.cmd("POST", "/window", { handle }); }
  closeWindow() { return this.cmd("DELETE", "/window"); }

  async delete() {
    if (!this.driver.sessions.delete(this)) return;
    await this.cmd("DELETE", "");
  }
}
