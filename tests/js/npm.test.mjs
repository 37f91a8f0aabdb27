// pkg/ as an npm package: its package.json, the tarball `npm pack` makes, and a small app that
// installs that tarball (offline: the package has no dependencies), is bundled by esbuild (the
// root dev tools) and runs migrations and a backup in the browser. Two ways an esbuild app finds
// the .wasm, as the package's README says: imported as a file (`--loader:.wasm=file`) and its URL
// handed to init(), or copied beside the bundle and found through import.meta.url.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { build } from "esbuild";
import { withPage, ROOT } from "./setup.mjs";

const run = promisify(execFile);
const PKG = join(ROOT, "pkg");
// Under the repository root, which the tests' server serves.
const APP = join(ROOT, "target", "npm-app");
// A guard against losing the size settings (without them: 390 KB and more; it was 320 KiB
// until the diff merged, 336 KiB until the backup folder, 344 KiB until restores held their
// automatic backup in place). Issue 16 asks for 200 KB; the settings alone reach 255–270 KiB,
// and the rest needs smaller code (docs/size.md, which says when and why the guard moved).
const MAX_WASM_GZIPPED = 360 * 1024;

test("pkg/package.json: name, the crate's version, an ES module with exports, types, files, sideEffects", async () => {
  const manifest = JSON.parse(await readFile(join(PKG, "package.json"), "utf8"));
  const cargo = await readFile(join(ROOT, "js", "Cargo.toml"), "utf8");
  assert.equal(manifest.name, "rewind-indexeddb");
  assert.equal(manifest.version, cargo.match(/^version = "(.*)"/m)[1]);
  assert.equal(manifest.type, "module");
  assert.deepEqual(manifest.exports["."], { types: "./rewind.d.ts", import: "./rewind.js", default: "./rewind.js" });
  assert.equal(manifest.exports["./rewind_bg.wasm"], "./rewind_bg.wasm");
  assert.equal(manifest.types, "./rewind.d.ts");
  assert.equal(manifest.sideEffects, false);
  assert.equal(manifest.license, "MIT OR Apache-2.0");
  assert.ok(!manifest.dependencies, "no dependencies: an app installs it offline");
});

test(`the wasm is at most ${MAX_WASM_GZIPPED / 1024} KiB gzipped`, async () => {
  const wasm = await readFile(join(PKG, "rewind_bg.wasm"));
  const gzipped = gzipSync(wasm, { level: 9 }).length;
  assert.ok(gzipped <= MAX_WASM_GZIPPED, `${wasm.length} bytes, ${gzipped} gzipped`);
});

/** `npm pack` of pkg/ into a fresh app directory; returns the tarball's path and its files. */
async function pack() {
  await rm(APP, { recursive: true, force: true });
  await mkdir(APP, { recursive: true });
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", APP], { cwd: PKG });
  const [{ filename, files }] = JSON.parse(stdout);
  return { tarball: join(APP, filename), files: files.map((f) => f.path) };
}

const MIGRATIONS = `[
  { version: 1, name: "notes", up: [{ op: "createStore", store: "notes", keyPath: "id" }],
    down: [{ op: "deleteStore", store: "notes" }] },
  { version: 2, name: "tags on notes",
    up: [{ op: "addField", store: "notes", field: "tags", value: [] },
         { op: "createIndex", store: "notes", index: "by_tag", keyPath: "tags", multiEntry: true }],
    down: [{ op: "deleteIndex", store: "notes", index: "by_tag" },
           { op: "removeField", store: "notes", field: "tags" }] },
]`;

// What both entries run: two migrations, notes written between them, a backup; then a third
// migration whose transform throws, and a malformed one.
const APP_JS = `
const migrations = ${MIGRATIONS};
const settle = (p) => p.then((v) => ({ ok: v }), (e) => ({ error: { isError: e instanceof Error, code: e.code, message: e.message } }));
function put(name, notes) {
  return new Promise((ok, fail) => {
    const open = indexedDB.open(name);
    open.onerror = () => fail(open.error);
    open.onsuccess = () => {
      const db = open.result, tx = db.transaction("notes", "readwrite");
      for (const n of notes) tx.objectStore("notes").put(n);
      tx.oncomplete = () => { db.close(); ok(); };
      tx.onerror = () => fail(tx.error);
    };
  });
}
export async function run(init, Rewind, name) {
  await init();
  const rw = await Rewind.open(name, migrations);
  const first = await rw.migrateTo(1);
  await put(name, Array.from({ length: 50 }, (_, i) => ({ id: i, text: "note " + i })));
  const second = await rw.migrateTo();
  const backup = await rw.backup("from the bundle");
  const backups = (await rw.listBackups()).map((b) => [b.label, b.automatic]);
  const status = await rw.status();
  rw.close();
  const failing = [...migrations, { version: 3, name: "boom",
    up: [{ op: "transform", store: "notes", fn: () => { throw new Error("boom"); } }] }];
  const rw2 = await Rewind.open(name, failing);
  const failed = await settle(rw2.migrateTo());
  const after = await rw2.status();
  rw2.close();
  const invalid = await settle(Rewind.open(name, [{ version: 1, name: "x", up: [{ op: "nonsense" }] }]));
  return {
    first, second, status: { schemaVersion: status.schemaVersion, pending: status.pending },
    backup: { label: backup.label, schemaVersion: backup.schemaVersion, automatic: backup.automatic,
              notes: backup.stores.find((s) => s.schema.name === "notes")?.records },
    backups, failed, afterFailure: { schemaVersion: after.schemaVersion, pending: after.pending }, invalid,
  };
}
`;

async function bundle() {
  await writeFile(join(APP, "app.js"), APP_JS);
  await writeFile(join(APP, "explicit.js"), `
import init, { Rewind } from "rewind-indexeddb";
import wasmUrl from "rewind-indexeddb/rewind_bg.wasm";
import { run } from "./app.js";
window.RESULT = run(() => init({ module_or_path: wasmUrl }), Rewind, "npm-explicit");
`);
  await writeFile(join(APP, "beside.js"), `
import init, { Rewind } from "rewind-indexeddb";
import { run } from "./app.js";
window.RESULT = run(() => init(), Rewind, "npm-beside");
`);
  const dist = join(APP, "dist");
  const result = await build({
    absWorkingDir: APP, entryPoints: ["explicit.js", "beside.js"], bundle: true, format: "esm",
    minify: true, loader: { ".wasm": "file" }, outdir: dist, logLevel: "silent", metafile: true,
  });
  assert.deepEqual(result.errors, []);
  // The app that does not import the .wasm copies it beside its bundle.
  await copyFile(join(APP, "node_modules", "rewind-indexeddb", "rewind_bg.wasm"), join(dist, "rewind_bg.wasm"));
  for (const entry of ["explicit", "beside"]) {
    await writeFile(join(dist, `${entry}.html`), `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>npm app</title><link rel="icon" href="data:,"><script type="module" src="./${entry}.js"></script></head><body></body></html>`);
  }
  return Object.keys(result.metafile.outputs);
}

test("npm pack gives a tarball an app installs offline, bundles with esbuild and runs", async () => {
  const { tarball, files } = await pack();
  for (const f of ["package.json", "README.md", "rewind.js", "rewind.d.ts", "rewind_bg.wasm"]) assert.ok(files.includes(f), f);
  const glue = await readFile(join(PKG, "rewind.js"), "utf8");
  const snippets = [...glue.matchAll(/from ['"]\.\/(snippets\/[^'"]+)['"]/g)].map((m) => m[1]);
  assert.ok(snippets.length > 0);
  for (const s of snippets) assert.ok(files.includes(s), `the tarball holds ${s}`);

  await writeFile(join(APP, "package.json"), JSON.stringify({ name: "npm-app", private: true }));
  await run("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], { cwd: APP });
  const outputs = await bundle();
  assert.ok(outputs.some((o) => /\.wasm$/.test(o)), `esbuild emitted the .wasm: ${outputs}`);

  for (const entry of ["explicit", "beside"]) {
    const r = await withPage(async (page) => {
      await page.waitForFunction(() => window.RESULT);
      return page.evaluate(() => window.RESULT);
    }, { path: `target/npm-app/dist/${entry}.html` });
    assert.deepEqual(r.first, { from: 0, to: 1, backupId: null }, entry);
    assert.equal(r.second.from, 1); assert.equal(r.second.to, 2);
    assert.equal(typeof r.second.backupId, "string", "an automatic backup before the migration");
    assert.deepEqual(r.status, { schemaVersion: 2, pending: [] });
    assert.deepEqual(r.backup, { label: "from the bundle", schemaVersion: 2, automatic: false, notes: 50 });
    assert.deepEqual(r.backups[0], ["from the bundle", false]);
    assert.equal(r.failed.error?.isError, true, JSON.stringify(r.failed));
    assert.equal(r.failed.error.code, "MigrationFailed");
    assert.match(r.failed.error.message, /boom/);
    assert.deepEqual(r.afterFailure, { schemaVersion: 2, pending: [3] }, "nothing changed");
    assert.equal(r.invalid.error?.code, "InvalidMigration");
  }
});
