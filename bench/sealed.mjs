// Sealed backups in one Chromium, interleaved (the order alternates every repetition): the key
// derivation alone (PBKDF2-SHA-256 at the header's iterations, WebCrypto), and exporting and
// inspecting a backup of about `mb` MB of incompressible bytes plain and sealed; prints the
// medians and the ratios (relative figures: the machine may be loaded).
//   node bench/sealed.mjs [mb] [repetitions]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { fileURLToPath } from "node:url";
import { serve } from "../tests/e2e/harness.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const mb = Number(process.argv[2] ?? 20);
const reps = Number(process.argv[3] ?? 5);
const profile = await mkdtemp(join(tmpdir(), "rewind-sealed-"));
const server = await serve(ROOT);
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROME_BIN ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const times = {};
try {
  const page = await context.newPage();
  await page.goto(`${server.url}tests/js/index.html`);
  await page.waitForFunction(() => window.T && window.Rewind);
  const info = await page.evaluate(async (mb) => {
    const M = [{ version: 1, name: "s", up: [{ op: "createStore", store: "s", keyPath: "id" }] }];
    window.rw = await Rewind.open("bench", M);
    await rw.migrateTo();
    const records = [];
    for (let i = 0; i < mb; i++) {
      const b = new Uint8Array(1 << 20);
      for (let o = 0; o < b.length; o += 65536) crypto.getRandomValues(b.subarray(o, o + 65536));
      records.push({ id: i, b });
    }
    await T.put("bench", "s", records);
    window.id = (await rw.backup("bench")).id;
    window.plain = await rw.exportBackup(id);
    window.sealed = await rw.exportBackup(id, { passphrase: "bench" });
    const iterations = new DataView(await sealed.slice(20, 24).arrayBuffer()).getUint32(0, true);
    return { plain: plain.size, sealed: sealed.size, iterations };
  }, mb);
  const ops = {
    // PBKDF2 alone, as sealed.js derives the key.
    kdf: () => page.evaluate(async (iterations) => {
      const t = performance.now();
      const base = await crypto.subtle.importKey("raw", new TextEncoder().encode("bench"), "PBKDF2", false, ["deriveKey"]);
      await crypto.subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt: crypto.getRandomValues(new Uint8Array(16)), iterations },
        base, { name: "AES-GCM", length: 256 }, false, ["encrypt"]);
      return performance.now() - t;
    }, info.iterations),
    exportPlain: () => page.evaluate(async () => { const t = performance.now(); await rw.exportBackup(id); return performance.now() - t; }),
    exportSealed: () => page.evaluate(async () => { const t = performance.now(); await rw.exportBackup(id, { passphrase: "bench" }); return performance.now() - t; }),
    inspectPlain: () => page.evaluate(async () => { const t = performance.now(); await rw.inspect(plain); return performance.now() - t; }),
    inspectSealed: () => page.evaluate(async () => { const t = performance.now(); await rw.inspect(sealed, { passphrase: "bench" }); return performance.now() - t; }),
  };
  const names = Object.keys(ops);
  for (let rep = 0; rep < reps; rep++) {
    for (const op of rep % 2 ? [...names].reverse() : names) (times[op] ??= []).push(await ops[op]());
    console.error(`rep ${rep + 1}/${reps}: ${names.map((o) => `${o} ${times[o].at(-1).toFixed(0)} ms`).join(", ")}`);
  }
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const m = Object.fromEntries(names.map((o) => [o, median(times[o])]));
  const mib = info.plain / (1 << 20);
  console.log(`${new Date().toISOString()}, Chromium, a backup of ${mib.toFixed(1)} MiB (sealed ${info.sealed} B), ${info.iterations} iterations, median of ${reps}`);
  console.log("| what | median (ms) |");
  console.log("|---|---:|");
  for (const o of names) console.log(`| ${o} | ${m[o].toFixed(0)} |`);
  const seal = m.exportSealed - m.exportPlain - m.kdf;
  const unseal = m.inspectSealed - m.inspectPlain - m.kdf;
  console.log(`sealing beyond the key derivation: ${seal.toFixed(0)} ms (${(mib / (seal / 1000)).toFixed(0)} MiB/s); unsealing: ${unseal.toFixed(0)} ms (${(mib / (unseal / 1000)).toFixed(0)} MiB/s)`);
} finally {
  await context.close();
  await server.close();
  await rm(profile, { recursive: true, force: true });
}
