// The package itself: what `scripts/pkg.sh` puts in pkg/, its TypeScript declarations, and the
// plain-JavaScript example page working from it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { withPage, ROOT } from "./setup.mjs";

const pkg = join(ROOT, "pkg");

test("pkg/ holds the ES module, the .wasm and the declarations", async () => {
  const files = await readdir(pkg);
  for (const f of ["rewind.js", "rewind_bg.wasm", "rewind.d.ts"]) assert.ok(files.includes(f), f);
  const js = await readFile(join(pkg, "rewind.js"), "utf8");
  assert.match(js, /export class Rewind/);
  assert.match(js, /export \{ initSync, __wbg_init as default \}/);
});

test("rewind.d.ts has real types: no `any` on the public surface", async () => {
  const dts = await readFile(join(pkg, "rewind.d.ts"), "utf8");
  // What follows InitInput is wasm-bindgen's description of the raw wasm exports.
  const surface = dts.split("export type InitInput")[0];
  const anys = surface.split("\n").filter((l) => /\bany\b/.test(l.replace(/\/\*\*.*|^\s*\*.*/g, "")));
  assert.deepEqual(anys, []);
  for (const t of ["Status", "MigrationPlan", "Manifest", "ValidationResult", "RewindOptions", "RestoreOptions",
    "ProgressOptions", "OperationOptions", "RollbackOptions", "PlanOptions", "Migration", "OperationReport", "JournalEntry", "SchemaProblem", "RewindError"]) {
    assert.match(surface, new RegExp(`export interface ${t}\\b`), t);
  }
  assert.match(surface, /export type Step =/);
  assert.match(surface, /export type ErrorCode =/);
  const signatures = {
    open: "static open(name: string, migrations: Migration[], options?: RewindOptions): Promise<Rewind>;",
    status: "status(): Promise<Status>;",
    plan: "plan(to: number, options?: PlanOptions): Promise<MigrationPlan>;",
    migrateTo: "migrateTo(to?: number | null, options?: OperationOptions): Promise<OperationReport>;",
    rollbackTo: "rollbackTo(to: number, options?: RollbackOptions): Promise<OperationReport>;",
    validate: "validate(): Promise<ValidationResult>;",
    repair: "repair(): Promise<number[]>;",
    adopt: "adopt(baseline?: number | \"auto\" | null, options?: OperationOptions): Promise<OperationReport>;",
    backup: "backup(label?: string, options?: BackupOptions): Promise<Manifest>;",
    listBackups: "listBackups(): Promise<Manifest[]>;",
    deleteBackup: "deleteBackup(id: string): Promise<void>;",
    exportBackup: "exportBackup(id: string, options?: PassphraseOptions): Promise<File>;",
    inspect: "inspect(source: string | Blob, options?: PassphraseOptions): Promise<Manifest>;",
    restore: "restore(source: string | Blob, options?: RestoreOptions): Promise<OperationReport>;",
    close: "close(): void;",
  };
  for (const [name, sig] of Object.entries(signatures)) assert.ok(surface.includes(sig), `${name}: ${sig}`);
});

test("the error codes in the declarations are the ones the README lists", async () => {
  const dts = await readFile(join(pkg, "rewind.d.ts"), "utf8");
  const declared = [...dts.match(/export type ErrorCode =([^;]*);/)[1].matchAll(/"(\w+)"/g)].map((m) => m[1]);
  const readme = await readFile(join(ROOT, "README.md"), "utf8");
  const table = readme.slice(readme.indexOf("| code | meaning |"));
  const listed = [...table.slice(0, table.indexOf("\n\n")).matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
  assert.ok(declared.length >= 18, `declared: ${declared}`);
  assert.deepEqual([...declared].sort(), [...listed].sort(), "the same codes, no more, no fewer");
  assert.equal(new Set(declared).size, declared.length, "none declared twice");
});

test("the plain-JavaScript example migrates, fills, backs up, rolls back and restores", async () => {
  await withPage(async (page) => {
    const state = page.getByRole("status");
    await page.waitForFunction(() => document.getElementById("state").textContent === "Ready.");
    await page.getByRole("button", { name: "Run the whole demo" }).click();
    await page.waitForFunction(() => /^(Done|Failed)/.test(document.getElementById("state").textContent));
    assert.equal(await state.innerText(), "Done: demo. Schema version 3 of 3.");
    const log = await page.getByLabel("Log").innerText();
    assert.match(log, /migrated: \{\s*"from": 0,\s*"to": 3/);
    assert.match(log, /notes now: 100/);
    assert.match(log, /rolled back: \{\s*"from": 3,\s*"to": 1/);
    assert.match(log, /status: \{\s*"schemaVersion": 1,\s*"pending": \[\s*2,\s*3\s*\],\s*"notes": 100/);
    assert.match(log, /after restore: \{\s*"schemaVersion": 3,\s*"notes": 100,\s*"valid": true/);
    assert.match(log, /a bad file is refused: CorruptBackup/);
  }, { path: "examples/plain-js/index.html" });
});
