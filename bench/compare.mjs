// Two builds of pkg/ side by side in one Chromium: Rewind's backup (+ export) and restore,
// interleaved (the order alternates every repetition), each in a fresh page; prints the
// medians and the ratio. For before/after figures of a change measured in one run.
//   node bench/compare.mjs <pkg dir A> <pkg dir B> [records] [repetitions]
// e.g. build the old commit's pkg into target/pkg-before (in a worktree with its own
// CARGO_TARGET_DIR: with a shared one, the later build may leave the other's .wasm in place),
// then
//   node bench/compare.mjs target/pkg-before pkg 100000 5
// With SWEEP=kind:size (text:10000, blob:4096…) the records are one of the sweep's points
// (bench/sweep.html: one store, restored into the existing database), `records` of them.
// A pkg dir followed by `?nocompress` (`pkg pkg?nocompress`) loads it without CompressionStream
// (bench/sweep-page.mjs): every backup format 3, for an A/B of compression in one build. The
// file sizes of Rewind's backups (and, with SWEEP, of dexie-export-import's export) are printed.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "../tests/e2e/harness.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const [a, b] = process.argv.slice(2, 4);
if (!a || !b) {
  console.error("usage: node bench/compare.mjs <pkg dir A> <pkg dir B> [records] [repetitions]");
  process.exit(2);
}
const total = Number(process.argv[4] ?? 100_000);
const reps = Number(process.argv[5] ?? 5);
// OPS=rewindBackup,rewindRestoreHeld (with SWEEP) times other operations of the page.
const OPS = (process.env.OPS ?? "rewindBackup,rewindRestore").split(",");

const profile = await mkdtemp(join(tmpdir(), "rewind-compare-"));
const server = await serve(ROOT);
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROME_BIN ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--js-flags=--expose-gc"],
});
const [kind, size] = (process.env.SWEEP ?? "").split(":");
const [html, api] = kind ? ["sweep.html", "S"] : ["index.html", "B"];
const open = async (pkg) => {
  const page = await context.newPage();
  const [dir, extra] = pkg.split("?");
  await page.goto(`${server.url}bench/${html}?pkg=${encodeURIComponent("/" + dir.replace(/^\/+|\/+$/g, ""))}${extra ? "&" + extra : ""}`);
  await page.waitForFunction((api) => window[api], api);
  return page;
};
const times = { [a]: {}, [b]: {} };
const sizes = { [a]: [], [b]: [] };
let dexieBytes = null;
try {
  const first = await open(b);
  await first.evaluate(({ api, kind, size, total }) => (api === "S" ? S.setup(kind, Number(size), total) : B.setup(total)), { api, kind, size, total });
  if (api === "S") dexieBytes = (await first.evaluate(() => S.dexieExport())).bytes;
  await first.close();
  for (let rep = 0; rep < reps; rep++) {
    for (const pkg of rep % 2 ? [b, a] : [a, b]) {
      const page = await open(pkg);
      for (const op of OPS) {
        const { ms, bytes } = await page.evaluate(({ api, op }) => window[api][op](), { api, op });
        (times[pkg][op] ??= []).push(ms);
        if (op === "rewindBackup" && bytes) sizes[pkg].push(bytes);
      }
      await page.close();
      console.error(`rep ${rep + 1}/${reps} ${pkg}: ${OPS.map((o) => `${o} ${times[pkg][o].at(-1).toFixed(0)} ms`).join(", ")}`);
    }
  }
} finally {
  await context.close();
  await server.close();
  await rm(profile, { recursive: true, force: true });
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
console.log(`${total.toLocaleString("en")} records${kind ? ` (${kind} ${size} B)` : ""}, median of ${reps}, ${new Date().toISOString()}`);
console.log(`| operation | ${a} (ms) | ${b} (ms) | ${a} ÷ ${b} |`);
console.log("|---|---:|---:|---:|");
for (const op of OPS) {
  const [x, y] = [median(times[a][op]), median(times[b][op])];
  console.log(`| ${op} | ${x.toFixed(0)} | ${y.toFixed(0)} | ${(x / y).toFixed(2)}× |`);
}
if (sizes[a].length && sizes[b].length) {
  const [x, y] = [median(sizes[a]), median(sizes[b])];
  console.log(`file bytes: ${a} ${x}, ${b} ${y} (${(x / y).toFixed(3)}×)` +
    (dexieBytes ? `; dexie-export-import's JSON ${dexieBytes}: ${a} ${(x / dexieBytes).toFixed(3)}×, ${b} ${(y / dexieBytes).toFixed(3)}×` : ""));
}
