// The sweep over record sizes and Blob sizes (docs/benchmarks.md): for each point, one store of
// records of one size in headless Chromium with a persistent profile, and per repetition,
// side by side: dexie-export-import's export and its import into the existing database
// (tables cleared first), Rewind's backup + export and its restore into the existing database
// (its automatic backup, held in place, included; a copy of the data as a format-3 backup, what
// that backup cost until 2026-12-01, also timed apart), and a raw put.
//   node bench/sweep.mjs [--reps 3] [--mb 20] [--out dir]     (after make pkg)
import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "../tests/e2e/harness.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const REPS = Number(opt("--reps", 3));
const MB = Number(opt("--mb", 20));
const OUT = opt("--out", join(ROOT, "target", "bench"));
// About MB megabytes of records at each point.
const POINTS = [
  ["text", 100], ["text", 1_000], ["text", 10_000], ["text", 100_000], ["blob", 4_096], ["blob", 500_000],
].map(([kind, size]) => ({ kind, size, count: Math.max(20, Math.round((MB * 1e6) / (size + 40))) }));

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const log = (...a) => console.error(...a);

const server = await serve(ROOT);
const profile = await mkdtemp(join(tmpdir(), "rewind-sweep-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROME_BIN ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--js-flags=--expose-gc"],
});
const rows = [];
let failed = 0;
try {
  for (const p of POINTS) {
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    const pkg = process.env.REWIND_PKG ? `?pkg=${encodeURIComponent(process.env.REWIND_PKG)}` : "";
    await page.goto(server.url + "bench/sweep.html" + pkg);
    await page.waitForFunction(() => window.S, null, { timeout: 60_000 });
    const set = await page.evaluate(({ kind, size, count }) => S.setup(kind, size, count), p);
    const t = { rawWrite: [], dexieExport: [], dexieImport: [], rewindBackup: [], automaticBackup: [], rewindInspect: [], rewindRestore: [] };
    for (let r = 0; r < REPS; r++) {
      for (const op of ["dexieExport", "rewindBackup", "automaticBackup", "rawWrite", "dexieImport", "rewindInspect", "rewindRestore"]) {
        const out = await page.evaluate((op) => S[op](), op);
        t[op].push(out.ms);
        if ("records" in out && out.records !== set.records) { failed++; log(`${p.kind} ${p.size}: ${op} left ${out.records} of ${set.records} records`); }
        if (op === "rewindRestore" && !out.automatic) { failed++; log(`${p.kind} ${p.size}: no automatic backup before the restore`); }
      }
    }
    if (errors.length) { failed++; log(errors.join("\n")); }
    await page.close();
    const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
    const row = {
      point: `${p.kind === "blob" ? "Blob" : "text"} ${p.size.toLocaleString("en-US")} B × ${p.count.toLocaleString("en-US")}`,
      ...m,
      backupVsDexie: m.dexieExport / m.rewindBackup,
      restoreVsDexie: m.dexieImport / m.rewindRestore,
      restoreVsRaw: m.rawWrite / m.rewindRestore,
    };
    rows.push(row);
    log(`${row.point}: backup ${row.backupVsDexie.toFixed(2)}× dexie export; restore ${row.restoreVsDexie.toFixed(2)}× dexie import, ${row.restoreVsRaw.toFixed(2)}× raw put`);
  }
} finally {
  await context.close();
  await server.close();
}
const ms = (x) => Math.round(x).toLocaleString("en-US");
const yes = (x, target) => `${x.toFixed(2)}×${x >= target ? "" : " (missed)"}`;
const table = [
  `Sweep, ${REPS} repetitions (medians), about ${MB} MB per point, Chromium, persistent profile; restores into the existing database.`,
  "",
  "| point | dexie export ms | Rewind backup + export ms | backup ≥ 2× dexie | dexie importInto ms | Rewind restore ms (a copying backup, not in it; verifying the file) | raw put ms | restore ≥ 1.3× dexie | restore ≥ 0.75× raw |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ...rows.map((r) => `| ${r.point} | ${ms(r.dexieExport)} | ${ms(r.rewindBackup)} | ${yes(r.backupVsDexie, 2)} | ${ms(r.dexieImport)} | ${ms(r.rewindRestore)} (${ms(r.automaticBackup)}; ${ms(r.rewindInspect)}) | ${ms(r.rawWrite)} | ${yes(r.restoreVsDexie, 1.3)} | ${yes(r.restoreVsRaw, 0.75)} |`),
].join("\n");
await mkdir(OUT, { recursive: true });
await writeFile(join(OUT, "sweep.md"), table + "\n");
await writeFile(join(OUT, "sweep.json"), JSON.stringify(rows, null, 2));
console.log(table);
console.log(`\nsweep: ${rows.length * 3 - failed} passed; ${failed} failed`);
process.exit(failed ? 1 : 0);
