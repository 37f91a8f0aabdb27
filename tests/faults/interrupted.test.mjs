// Interrupted file: a downloaded backup cut short (at many lengths) and uploaded again, and an
// upload whose file is cut short on disk after it was chosen. inspect and restore must refuse
// with a clear error and change nothing: no data, no journal entry, no backup.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile, truncate, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newContext, openPage, whichOf, describeDiff, prepare, inspectW, ENGINE } from "./setup.mjs";

const summary = [];

test("a backup file cut short at any of 48 lengths is refused by inspect and restore; nothing changes", async () => {
  const context = await newContext();
  const page = await openPage(context);
  const before = JSON.parse(await prepare(page, "restore")); // "w" with backup "source"
  await page.evaluate(() => F.clone("P", "w"));
  const r = JSON.parse(await page.evaluate(async () => {
    const rw = await F.open("w");
    const source = (await rw.listBackups()).find((m) => m.label === "source");
    const file = await rw.exportBackup(source.id);
    const ids = await F.backupIds("w");
    const size = file.size;
    // Every length up to 16, then spread over the file, then the last 16 bytes.
    const lengths = [...new Set([
      ...Array.from({ length: 16 }, (_, i) => i),
      ...Array.from({ length: 16 }, (_, i) => Math.round(((i + 1) / 17) * size)),
      ...Array.from({ length: 16 }, (_, i) => size - 16 + i),
    ])];
    const results = [];
    for (const n of lengths) {
      // What a cut download leaves on disk: the first n bytes, under the same name.
      const cut = new File([file.slice(0, n)], file.name, { type: file.type });
      const inspect = await F.failure(rw.inspect(cut));
      const restore = await F.failure(rw.restore(cut));
      results.push({ n, inspect: inspect.code ?? "accepted", restore: restore.code ?? "accepted", message: restore.message });
    }
    const whole = await F.failure(rw.inspect(file));
    return JSON.stringify({ size, lengths, results, ids, whole });
  }));
  const seen = await inspectW(page, r.ids);
  assert.equal(whichOf(seen.dump, { before }), "before", describeDiff(seen.dump, before));
  assert.deepEqual(seen.catalog.list.map((m) => m.id), r.ids, "no backup was added");
  assert.deepEqual(seen.catalog.problems, []);
  assert.deepEqual(r.whole, { resolved: true }, "the whole file inspects");
  const codes = {};
  for (const x of r.results) {
    assert.equal(x.inspect, x.restore, `cut at ${x.n}: inspect and restore agree`);
    assert.ok(["CorruptBackup", "ChecksumMismatch"].includes(x.restore), `cut at ${x.n} of ${r.size}: ${x.restore} ${x.message}`);
    codes[x.restore] = (codes[x.restore] ?? 0) + 1;
  }
  const sample = r.results.find((x) => x.n === r.size - 1);
  assert.match(sample.message, /not a complete Rewind backup|cut short|truncated|missing/i);
  summary.push(`download cut short: ${r.results.length} lengths of a ${r.size}-byte file → ${JSON.stringify(codes)}; database, journal and catalog unchanged; e.g. "${sample.message}"`);
  await context.close();
});

test("an upload whose file is cut short on disk after it was chosen is refused; nothing changes", async () => {
  const context = await newContext();
  const page = await openPage(context);
  const before = JSON.parse(await prepare(page, "restore"));
  await page.evaluate(() => F.clone("P", "w"));
  const dir = await mkdtemp(join(tmpdir(), "rewind-faults-"));
  try {
    const b64 = await page.evaluate(async () => {
      const rw = await F.open("w");
      const source = (await rw.listBackups()).find((m) => m.label === "source");
      const b = new Uint8Array(await (await rw.exportBackup(source.id)).arrayBuffer());
      let s = "";
      for (let i = 0; i < b.length; i += 32768) s += String.fromCharCode(...b.subarray(i, i + 32768));
      return btoa(s);
    });
    const path = join(dir, "w.rewind");
    const bytes = Buffer.from(b64, "base64");
    await writeFile(path, bytes);
    await page.setInputFiles("#upload", path);
    // The file is chosen; then it is cut short on disk (a copy still being written, a
    // download still in progress, a removable disk pulled out).
    await truncate(path, Math.floor(bytes.length / 2));
    const r = await page.evaluate(async () => {
      const rw = await F.open("w");
      const ids = await F.backupIds("w");
      const file = document.getElementById("upload").files[0];
      return { ids, size: file.size, inspect: await F.failure(rw.inspect(file)), restore: await F.failure(rw.restore(file)) };
    });
    assert.notEqual(r.restore.resolved, true, "the restore was refused");
    assert.notEqual(r.inspect.resolved, true, "inspect refused it");
    assert.ok(r.restore.code, JSON.stringify(r.restore));
    const seen = await inspectW(page, r.ids);
    assert.equal(whichOf(seen.dump, { before }), "before", describeDiff(seen.dump, before));
    assert.deepEqual(seen.catalog.list.map((m) => m.id), r.ids, "no backup was added");
    summary.push(`upload cut short on disk after it was chosen (${bytes.length} → ${Math.floor(bytes.length / 2)} bytes): inspect ${r.inspect.code}, restore ${r.restore.code}, unchanged; message: "${r.restore.message}"`);
    uploadFailure = r.restore;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await context.close();
  console.log(`interrupted files:\n${summary.map((s) => `  ${s}`).join("\n")}`);
});
let uploadFailure;

// A chosen file that can no longer be read (changed, cut short or removed on disk after it
// was chosen; Chromium's NotReadableError) is a problem with the file, not with the app's
// storage (it was once reported as "Storage"; docs/reliability.md, finding 2).
test("an upload that can no longer be read is a file problem (UnreadableFile), not a storage failure", () => {
  assert.ok(uploadFailure, "the upload test ran");
  if (ENGINE === "webkit") {
    // WebKit reads a chosen file cut short on disk at its old length without an error (no
    // NotReadableError, no short read): the file's own checks refuse it (docs/engines.md) —
    // a format 3 file by its end mark (CorruptBackup), a format 2 one by its checksum.
    assert.ok(["CorruptBackup", "ChecksumMismatch"].includes(uploadFailure.code), `${uploadFailure.code}: ${uploadFailure.message}`);
    assert.match(uploadFailure.message, /Nothing was changed/);
    return;
  }
  assert.equal(uploadFailure.code, "UnreadableFile", uploadFailure.message);
  assert.doesNotMatch(uploadFailure.message, /storage failed|unexpected value/);
  assert.match(uploadFailure.message, /^the file could not be read \(.+\): it was changed, moved or is still being written/);
});
