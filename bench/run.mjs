// Runs the benchmark page (bench/index.html) in headless Chromium (or, REWIND_ENGINE=firefox|
// webkit, in that engine over WebDriver: one session, so one profile, pages reloaded) and
// prints the table.
//   node bench/run.mjs [--smoke] [--sizes 10000,100000] [--reps 5] [--blob-size 10000] [--out dir]
// The repository root is served on 127.0.0.1 (pkg/, node_modules/dexie…, bench/); Chromium
// runs with a persistent profile (IndexedDB on disk, as for a real site), precise memory info
// and an exposed gc(). Operations are interleaved within each repetition; medians are
// reported. --smoke: 2,000 records, one repetition, and only checks that everything ran and
// the numbers are sane (`bench: N passed; M failed`, exit 1 on any failure).
import { mkdtemp, mkdir, rm, writeFile, readFile } from "node:fs/promises";
import { cpus, totalmem, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "../tests/e2e/harness.mjs";
import { ENGINE, openBrowser } from "../tests/shared/browsers.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const SMOKE = flag("--smoke");
const OUT = opt("--out", join(ROOT, "target", "bench"));

// The full run: repetitions per size, kept within ~15 minutes on two cores (hence one
// repetition at 300k).
const PLAN = SMOKE
  ? [{ total: 2000, reps: 1, blobs: false }]
  : opt("--sizes", null)
    ? opt("--sizes").split(",").map((s) => ({ total: Number(s), reps: Number(opt("--reps", 3)), blobs: false }))
    : [
        { total: 10_000, reps: 3, blobs: false },
        { total: 10_000, reps: 2, blobs: true },
        { total: 100_000, reps: 2, blobs: false },
        { total: 300_000, reps: 1, blobs: false },
      ];
if (!SMOKE && opt("--blob-size")) PLAN.push({ total: Number(opt("--blob-size")), reps: Number(opt("--reps", 3)), blobs: true });

const OPS = ["rawRead", "rawWrite", "dexieExport", "dexieImport", "rewindBackup", "rewindRestore", "rewindMigrate"];
const MEMORY_OPS = ["rewindBackup", "rewindRestore", "dexieExport", "dexieImport"];

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const MB = 1e6;
const fmt = (n, d = 0) => n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
const log = (...a) => console.error(...a);

async function main() {
  await mkdir(OUT, { recursive: true });
  const profile = await mkdtemp(join(tmpdir(), "rewind-bench-"));
  const server = await serve(ROOT);
  // Firefox and WebKit: one WebDriver session (its storage kept across page loads); a "fresh
  // page" is the page loaded again (a fresh wasm instance and heap).
  const webdriver = ENGINE === "chromium" ? null : await openBrowser(ENGINE);
  let shared = null;
  const context = webdriver ? null : await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROME_BIN ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--enable-precise-memory-info", "--js-flags=--expose-gc",
    ],
  });
  const errors = [];
  const checks = [];
  const check = (ok, what) => { checks.push({ ok: !!ok, what }); if (!ok) log(`check failed: ${what}`); };
  const url = server.url + "bench/index.html" + (process.env.REWIND_PKG ? `?pkg=${encodeURIComponent(process.env.REWIND_PKG)}` : "");
  async function freshPage() {
    if (webdriver) {
      shared ??= await webdriver.openPage(url, { allowErrors: true });
      await shared.page.goto(url);
      await shared.page.waitForFunction(() => window.B, undefined, { timeout: 60_000 });
      return Object.assign(shared.page, { close: async () => errors.push(...(await shared.page.pageErrors())) });
    }
    const page = await context.newPage();
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    await page.goto(url);
    await page.waitForFunction(() => window.B, null, { timeout: 60_000 });
    return page;
  }
  const results = [];
  let env;
  try {
    for (const { total, reps, blobs } of PLAN) {
      const label = `${fmt(total)} records${blobs ? " + Blobs" : ""}`;
      log(`== ${label}: setup`);
      let page = await freshPage();
      env ??= await page.evaluate(() => B.env());
      const setup = await page.evaluate(([t, b]) => B.setup(t, { blobs: b }), [total, blobs]);
      check(setup.total === total && Object.values(setup.counts).reduce((a, b) => a + b) === total, `${label}: setup wrote every record`);
      const runs = Object.fromEntries(OPS.map((op) => [op, []]));
      for (let rep = 0; rep < reps; rep++) {
        for (const op of OPS) {
          const t0 = Date.now();
          try {
            runs[op].push(await page.evaluate((o) => B[o](), op));
          } catch (e) {
            check(false, `${label}: ${op} threw ${e.message.split("\n")[0]}`);
          }
          log(`   rep ${rep + 1}/${reps} ${op}: ${fmt((Date.now() - t0) / 1000, 1)} s`);
        }
      }
      await page.close();
      // Memory: one fresh page (a fresh wasm instance and heap) per operation. The files go
      // from page to page as Blobs in IndexedDB, which WebKit's WebDriver session refuses.
      const memory = {};
      if (ENGINE === "webkit") log("   memory runs: not in WebKit (its WebDriver session stores no Blobs)");
      for (const op of ENGINE === "webkit" ? [] : MEMORY_OPS) {
        page = await freshPage();
        try {
          memory[op] = (await page.evaluate((o) => B[o]({ memory: true }), op)).memory;
        } catch (e) {
          check(false, `${label}: memory run of ${op} threw ${e.message.split("\n")[0]}`);
        }
        await page.close();
        log(`   memory ${op}: done`);
      }
      results.push(summarize({ total, reps, blobs, label, setup, runs, memory }, check));
    }
  } finally {
    await shared?.close();
    await webdriver?.close();
    await context?.close();
    await server.close();
    await rm(profile, { recursive: true, force: true });
  }
  for (const e of errors) check(false, `page error: ${e}`);

  const machine = {
    date: new Date().toISOString(),
    browser: env?.userAgent,
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  const report = render(machine, results);
  console.log(report);
  await writeFile(join(OUT, SMOKE ? "smoke.md" : "report.md"), report);
  await writeFile(join(OUT, SMOKE ? "smoke.json" : "results.json"), JSON.stringify({ machine, results }, null, 2));
  const failed = checks.filter((c) => !c.ok).length;
  console.log(`bench: ${checks.length - failed} passed; ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

function summarize({ total, reps, blobs, label, setup, runs, memory }, check) {
  const jsonMB = setup.jsonBytes / MB;
  const row = (name, msList, extra = {}) => {
    const ms = median(msList);
    return { name, ms, n: msList.length, recPerS: total / (ms / 1000), mbPerS: jsonMB / (ms / 1000), ...extra };
  };
  const pick = (op, f) => runs[op].map(f);
  const rows = {
    rawRead: row("raw read: getAll, one transaction, + Blob", pick("rawRead", (r) => r.ms)),
    rawWrite: row("raw write: put, one transaction", pick("rawWrite", (r) => r.ms)),
    dexieExport: row("dexie-export-import exportDB", pick("dexieExport", (r) => r.ms)),
    dexieImport: row("dexie-export-import importDB", pick("dexieImport", (r) => r.ms)),
    rewindBackup: row("Rewind backup + exportBackup → Blob", pick("rewindBackup", (r) => r.ms)),
    rewindBackupOnly: row("  of which backup (into the catalog)", pick("rewindBackup", (r) => r.backupMs)),
    rewindExportOnly: row("  of which exportBackup", pick("rewindBackup", (r) => r.exportMs)),
    rewindRestore: row("Rewind restore from the Blob", pick("rewindRestore", (r) => r.ms)),
    rewindMigrate: row("Rewind migrateTo (auto backup + data step)", pick("rewindMigrate", (r) => r.migrateMs)),
    rewindRollback: row("Rewind rollbackTo (auto backup + data step)", pick("rewindMigrate", (r) => r.rollbackMs)),
  };
  const sizes = {
    json: setup.jsonBytes,
    rewind: median(pick("rewindBackup", (r) => r.bytes)),
    dexie: median(pick("dexieExport", (r) => r.bytes)),
  };
  const ratio = (a, b) => rows[b].ms / rows[a].ms; // throughput of a over throughput of b
  const ratios = {
    backupVsDexie: ratio("rewindBackup", "dexieExport"),
    backupVsRaw: ratio("rewindBackup", "rawRead"),
    restoreVsDexie: ratio("rewindRestore", "dexieImport"),
    restoreVsRaw: ratio("rewindRestore", "rawWrite"),
    sizeVsDexie: sizes.rewind / sizes.dexie,
  };
  const peak = (m) => m && m.wasmBytes + Math.max(0, m.heapGrowth);
  const mem = Object.fromEntries(Object.entries(memory).map(([k, m]) => [k, { ...m, peak: peak(m), vsBackup: peak(m) / sizes.rewind }]));

  // Sanity (what the smoke run asserts).
  for (const [k, r] of Object.entries(rows)) check(r.n >= 1 && Number.isFinite(r.ms) && r.ms > 0, `${label}: ${k} measured`);
  for (const r of runs.rewindRestore) check(r.records === total, `${label}: restore brought back ${r.records}/${total} records`);
  for (const r of runs.dexieImport) check(r.records === total, `${label}: dexie import brought back ${r.records}/${total} records`);
  for (const r of runs.rawWrite) check(r.records === total, `${label}: raw write wrote ${r.records}/${total} records`);
  for (const r of runs.rewindMigrate) check(r.version === 1, `${label}: rollback ended at version ${r.version}`);
  check(sizes.rewind > 0 && sizes.rewind < 10 * sizes.json + 1e6, `${label}: backup size ${sizes.rewind} is sane`);
  // The JS heap is measured where the engine says (Chromium's performance.memory).
  for (const op of ENGINE === "webkit" ? [] : MEMORY_OPS) check(mem[op] && mem[op].wasmBytes > 0 && (ENGINE !== "chromium" || mem[op].heapPeak > 0), `${label}: memory of ${op} sampled`);
  return { label, total, reps, blobs, jsonBytes: setup.jsonBytes, rows, sizes, ratios, memory: mem };
}

function render(machine, results) {
  const out = [];
  out.push(`Date: ${machine.date}`);
  out.push(`Browser: ${machine.browser}`);
  out.push(`Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGB} GB; Node ${machine.node}`);
  for (const r of results) {
    out.push("");
    out.push(`### ${r.label} (${fmt(r.jsonBytes / MB, 1)} MB of JSON; median of ${r.reps})`);
    out.push("");
    out.push("| operation | ms | records/s | MB/s |");
    out.push("|---|---:|---:|---:|");
    for (const row of Object.values(r.rows)) out.push(`| ${row.name} | ${fmt(row.ms)} | ${fmt(row.recPerS)} | ${fmt(row.mbPerS, 1)} |`);
    out.push("");
    const x = (v) => `${fmt(v, 2)}×`;
    const t = (v, goal, more = true) => `${x(v)} (target ${more ? "≥" : "≤"} ${goal}×: ${(more ? v >= goal : v <= goal) ? "met" : "missed"})`;
    out.push(`- backup → Blob vs dexie export: ${t(r.ratios.backupVsDexie, 2)}; vs raw read: ${t(r.ratios.backupVsRaw, 0.8)}`);
    out.push(`- restore from Blob vs dexie import: ${t(r.ratios.restoreVsDexie, 1.3)}; vs raw write: ${t(r.ratios.restoreVsRaw, 0.9)}`);
    out.push(`- file size: Rewind ${fmt(r.sizes.rewind / MB, 1)} MB, dexie JSON ${fmt(r.sizes.dexie / MB, 1)} MB: ${t(r.ratios.sizeVsDexie, 1, false)}`);
    const m = r.memory;
    const line = (k, name) => m[k] && `${name}: wasm ${fmt(m[k].wasmBytes / MB, 1)} MB + JS heap growth ${fmt(Math.max(0, m[k].heapGrowth) / MB, 1)} MB = ${fmt(m[k].peak / MB, 1)} MB`;
    for (const [k, name] of [["rewindBackup", "Rewind backup + export"], ["rewindRestore", "Rewind restore"]]) {
      if (m[k]) out.push(`- peak memory, ${line(k, name)} = ${t(m[k].vsBackup, 2, false)} the backup's size`);
    }
    for (const [k, name] of [["dexieExport", "dexie export"], ["dexieImport", "dexie import"]]) {
      if (m[k]) out.push(`- peak memory, ${line(k, name)} (for comparison)`);
    }
  }
  return out.join("\n");
}

main().catch((e) => { console.error(e); console.log("bench: 0 passed; 1 failed"); process.exit(1); });
