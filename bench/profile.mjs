// Where the time goes: a CPU profile (Chrome DevTools protocol) of one benchmark operation,
// summed by function (self time), wasm functions included.
//   node bench/profile.mjs [records] [op…]     e.g. node bench/profile.mjs 100000 rewindBackup
//   BLOBS=1 node bench/profile.mjs 10000 …     the dataset with Blob attachments
//   SWEEP=blob:4096 node bench/profile.mjs 1209 rewindBackup rewindRestore
//                                              a point of the sweep (bench/sweep.html): kind:size
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "../tests/e2e/harness.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const total = Number(process.argv[2] ?? 100_000);
const ops = process.argv.slice(3).length ? process.argv.slice(3) : ["rewindBackup", "rewindRestore"];

const profile = await mkdtemp(join(tmpdir(), "rewind-profile-"));
const server = await serve(ROOT);
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROME_BIN ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--enable-precise-memory-info", "--js-flags=--expose-gc"],
});
try {
  const page = await context.newPage();
  const pkg = process.env.REWIND_PKG ? `?pkg=${encodeURIComponent(process.env.REWIND_PKG)}` : "";
  const sweep = process.env.SWEEP?.split(":");
  const api = sweep ? "S" : "B";
  await page.goto(server.url + (sweep ? "bench/sweep.html" : "bench/index.html") + pkg);
  await page.waitForFunction((api) => window[api], api);
  if (sweep) {
    await page.evaluate(([kind, size, count]) => S.setup(kind, size, count), [sweep[0], Number(sweep[1]), total]);
  } else {
    await page.evaluate(([t, blobs]) => B.setup(t, { blobs }), [total, !!process.env.BLOBS]);
  }
  const cdp = await context.newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
  for (const op of ops) {
    await cdp.send("Profiler.start");
    const t0 = Date.now();
    await page.evaluate(([api, o]) => window[api][o](), [api, op]);
    const ms = Date.now() - t0;
    const { profile: p } = await cdp.send("Profiler.stop");
    const self = new Map();
    const dt = new Map();
    p.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
    for (const n of p.nodes) {
      const f = n.callFrame;
      const name = `${f.functionName || "(anonymous):" + f.lineNumber} ${f.url ? f.url.split("/").pop() : ""}`.trim();
      self.set(name, (self.get(name) ?? 0) + (dt.get(n.id) ?? 0) / 1000);
    }
    const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 25);
    console.log(`\n== ${op}: ${ms} ms wall; self time by function (ms):`);
    for (const [name, t] of top) console.log(`${t.toFixed(0).padStart(8)}  ${name}`);
  }
} finally {
  await context.close();
  await server.close();
  await rm(profile, { recursive: true, force: true });
}
