// A large database, backed up, restored, migrated and rolled back in headless Chromium with a
// persistent profile, with the peak of wasm linear memory and the growth of the JS heap
// (docs/benchmarks.md, "Large databases"). Outside `make bench`: it writes gigabytes.
//   node bench/large.mjs [--kind blob|text] [--size 500000] [--mb 1000] [--out dir]   (after make pkg)
// Disk: the database, its backup, the restore's automatic backup and its staging copy can be
// on disk at once: about 4 × --mb.
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "../tests/e2e/harness.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const KIND = opt("--kind", "blob");
const SIZE = Number(opt("--size", KIND === "blob" ? 500_000 : 10_000));
const MBS = Number(opt("--mb", 1000));
const OUT = opt("--out", join(ROOT, "target", "bench"));
const log = (...a) => console.error(...a);

const server = await serve(ROOT);
const profile = await mkdtemp(join(tmpdir(), "rewind-large-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROME_BIN ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-precise-memory-info", "--js-flags=--expose-gc"],
});
let failed = 0;
const fail = (what) => { failed++; log(`check failed: ${what}`); };
const rows = [];
try {
  const page = await context.newPage();
  page.setDefaultTimeout(0);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(server.url + "bench/large.html");
  await page.waitForFunction(() => window.L, null, { timeout: 60_000 });
  const t0 = Date.now();
  const set = await page.evaluate(([k, s, m]) => L.setup(k, s, m), [KIND, SIZE, MBS]);
  log(`setup: ${set.records} records in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  for (const op of ["backup", "restore", "migrate", "rollback"]) {
    let out;
    try {
      out = await page.evaluate((op) => L[op](), op);
    } catch (e) {
      fail(`${op} threw ${e.message.split("\n")[0]}`);
      continue;
    }
    if ("records" in out && out.records !== set.records) fail(`${op} left ${out.records} of ${set.records} records`);
    if (op === "restore" && !out.automatic) fail("no automatic backup before the restore");
    if (op === "rollback" && out.version !== 1) fail(`rolled back to ${out.version}`);
    rows.push({ op, ...out });
    log(`${op}: ${(out.ms / 1000).toFixed(1)} s, wasm ${(out.wasmBytes / 1e6).toFixed(1)} MB, JS heap +${(out.heapGrowth / 1e6).toFixed(1)} MB (live +${(out.liveGrowth / 1e6).toFixed(1)} MB)`);
  }
  await page.evaluate(() => L.cleanup());
  if (errors.length) fail(errors.join("\n"));
  await page.close();
} finally {
  await context.close();
  await server.close();
  await rm(profile, { recursive: true, force: true });
}
const mb = (x) => (x / 1e6).toFixed(1);
const table = [
  `${(MBS / 1000).toFixed(1)} GB of ${KIND === "blob" ? "Blob" : "text"} records of ${SIZE.toLocaleString("en-US")} B, Chromium, persistent profile; the restore into the existing database (its automatic backup included).`,
  "",
  "| operation | s | peak wasm memory MB | JS heap growth MB (peak, garbage included) | live JS heap growth MB (after forced collections) |",
  "|---|---:|---:|---:|---:|",
  ...rows.map((r) => `| ${r.op === "backup" ? `backup + export (${mb(r.bytes)} MB file)` : r.op} | ${(r.ms / 1000).toFixed(1)} | ${mb(r.wasmBytes)} | ${mb(r.heapGrowth)} | ${mb(r.liveGrowth)} |`),
].join("\n");
await mkdir(OUT, { recursive: true });
await writeFile(join(OUT, `large-${KIND}.md`), table + "\n");
console.log(table);
console.log(`\nlarge: ${rows.length} ran; ${failed} failed`);
process.exit(failed ? 1 : 0);
