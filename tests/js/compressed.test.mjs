// Compressed backups (format 4, docs/backup-format.md "Version 4"): chunks stored as raw
// DEFLATE by the browser's CompressionStream, inflated by DecompressionStream on restore,
// inspect and diff; `compress: false` still writes format 3, which still restores; a changed
// compressed chunk is refused, digests re-sealed or not, and nothing changes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withPage, assertCode } from "./setup.mjs";

// Defined in the page (page.evaluate runs functions there, so they travel as source).
const SETUP = `
  window.M = [
    { version: 1, name: "notes", up: [{ op: "createStore", store: "notes", keyPath: "id" }],
      down: [{ op: "deleteStore", store: "notes" }] },
  ];
  // Text records much like people's notes: words repeated, numbers, a title.
  window.NOTES = (n, tag) => Array.from({ length: n }, (_, id) => ({
    id, title: tag + " note " + id,
    body: ("Meeting moved to " + ["Monday", "Tuesday", "Friday"][id % 3] + "; bring the draft of chapter " + (id % 17) + ". ").repeat(1 + id % 12),
    done: id % 5 === 0,
  }));
  const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const le64 = (b, at) => Number(new DataView(b.buffer, b.byteOffset).getBigUint64(at, true));
  const hex = (d) => Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("");
  // A chunked file taken apart: header, frames (with their index entries) and manifest.
  window.framesOf = async (blob) => {
    const b = new Uint8Array(await blob.arrayBuffer());
    const n = b.length, index = le64(b, n - 64), count = le64(b, n - 56), mlen = le64(b, n - 48);
    const frames = [];
    let at = 16;
    for (let i = 0; i < count; i++) {
      const entry = b.slice(index + 56 * i, index + 56 * (i + 1));
      const len = le64(entry, 16);
      frames.push({ entry, kind: entry[0], bytes: b.slice(at, at + len) });
      at += len;
    }
    const manifest = JSON.parse(new TextDecoder().decode(b.subarray(index + 56 * count, index + 56 * count + mlen)));
    return { header: b.slice(0, 16), frames, manifest };
  };
  // The file rebuilt from its parts, every digest, store total and the root made to match:
  // damage no checksum can catch, which the other checks must.
  window.resealed = async ({ header, frames, manifest }) => {
    const index = new Uint8Array(56 * frames.length);
    const perStore = new Map();
    for (const [i, f] of frames.entries()) {
      const e = f.entry.slice();
      new DataView(e.buffer).setBigUint64(16, BigInt(f.bytes.length), true);
      e.set(await sha256(f.bytes), 24);
      index.set(e, 56 * i);
      const store = new DataView(e.buffer).getUint32(4, true);
      const s = perStore.get(store) ?? { bytes: 0, digests: [] };
      s.bytes += f.bytes.length;
      s.digests.push(e.slice(24, 56));
      perStore.set(store, s);
    }
    for (const [store, s] of perStore) {
      manifest.stores[store].bytes = s.bytes;
      manifest.stores[store].sha256 = hex(await sha256(await new Blob(s.digests).arrayBuffer()));
    }
    const json = new TextEncoder().encode(JSON.stringify(manifest));
    const framesLen = frames.reduce((sum, f) => sum + f.bytes.length, 16);
    const fields = new Uint8Array(24);
    const v = new DataView(fields.buffer);
    v.setBigUint64(0, BigInt(framesLen), true);
    v.setBigUint64(8, BigInt(frames.length), true);
    v.setBigUint64(16, BigInt(json.length), true);
    const root = await sha256(await new Blob([header, await sha256(index), await sha256(json), fields]).arrayBuffer());
    return new Blob([header, ...frames.map((f) => f.bytes), index, json, fields, root, "RWND-END"]);
  };
  window.deflated = async (bytes) => new Uint8Array(await new Response(
    new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate-raw"))).arrayBuffer());
  window.inflated = async (bytes) => new Uint8Array(await new Response(
    new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"))).arrayBuffer());
`;

test("a backup of text records is format 4 and much smaller than with compress: false; both restore record for record", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("notes", M);
      await rw.migrateTo(1);
      const original = NOTES(3000, "first");
      await T.put("notes", "notes", original);
      const m4 = await rw.backup("compressed");
      const m3 = await rw.backup("as it is", { compress: false });
      const f4 = await rw.exportBackup(m4.id);
      const f3 = await rw.exportBackup(m3.id);
      const inspected = [await rw.inspect(f4), await rw.inspect(f3)];
      const kinds = new Set((await framesOf(f4)).frames.map((f) => f.kind));
      const out = { m4, m3, size4: f4.size, size3: f3.size, inspected, kinds: [...kinds] };
      const changeAll = async (tag) => {
        await T.put("notes", "notes", NOTES(3500, tag));
      };
      // From the exported format-4 file, from the catalog, and from the format-3 file.
      await changeAll("second");
      out.diff = await rw.diff(f4);
      out.fromFile4 = await rw.restore(f4);
      out.same4 = JSON.stringify(await T.getAll("notes", "notes")) === JSON.stringify(original);
      await changeAll("third");
      await rw.restore(m4.id);
      out.sameId = JSON.stringify(await T.getAll("notes", "notes")) === JSON.stringify(original);
      await changeAll("fourth");
      await rw.restore(f3);
      out.same3 = JSON.stringify(await T.getAll("notes", "notes")) === JSON.stringify(original);
      // The automatic backups the restores took are stored as they are: a person waits on them.
      out.automatic = (await rw.listBackups()).filter((b) => b.automatic).map((b) => b.formatVersion);
      out.badOption = await T.failure(rw.backup("x", { compress: "yes" }));
      return out;
    });
    assert.equal(r.m4.formatVersion, 4);
    assert.equal(r.m3.formatVersion, 3);
    assert.deepEqual(r.inspected.map((m) => m.formatVersion), [4, 3]);
    assert.equal(r.inspected[0].stores[0].records, 3000);
    assert.ok(r.kinds.includes(3), `compressed chunks (kind 3): ${r.kinds}`);
    assert.ok(r.size4 * 4 < r.size3, `compressed ${r.size4} vs as it is ${r.size3}`);
    assert.deepEqual(r.diff.stores.map((s) => [s.store, s.removed, s.changed]), [["notes", 500, 3000]]);
    assert.equal(r.same4, true, "restored from the format-4 file record for record");
    assert.equal(r.sameId, true, "restored from the catalog record for record");
    assert.equal(r.same3, true, "a format-3 file still restores record for record");
    assert.ok(r.automatic.length >= 3, `automatic backups: ${r.automatic}`);
    assert.ok(r.automatic.every((v) => v === 3), `automatic backups are format 3: ${r.automatic}`);
    assertCode(r.badOption, "InvalidArgument", "compress must be a boolean");
  });
});

test("a changed compressed chunk is refused, its digests re-sealed or not, and nothing changes", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("notes", M);
      await rw.migrateTo(1);
      await T.put("notes", "notes", NOTES(400, "kept"));
      const file = await rw.exportBackup((await rw.backup("b")).id);
      const parts = await framesOf(file);
      const first = parts.frames.findIndex((f) => f.kind === 3);
      const withChunk = async (bytes) => {
        const p = await framesOf(file);
        p.frames[first].bytes = bytes;
        return p;
      };
      const chunk = parts.frames[first].bytes;
      const raw = await inflated(chunk);
      const notDeflate = chunk.slice().fill(0xff);
      const cases = {
        // The stored bytes changed, digests as they were.
        unsealed: await T.edited(file, (b) => {
          b[16 + parts.frames.slice(0, first).reduce((s, f) => s + f.bytes.length, 0) + 3] ^= 0x40;
        }),
        // Re-sealed: bytes that are no raw DEFLATE; a chunk inflating to more, or fewer, bytes
        // than its index declares.
        notDeflate: await resealed(await withChunk(notDeflate)),
        inflatesToMore: await resealed(await withChunk(await deflated(new Blob([raw, "extra bytes"])))),
        inflatesToFewer: await resealed(await withChunk(await deflated(raw.subarray(0, raw.length - 5)))),
      };
      const before = JSON.stringify(await T.getAll("notes", "notes"));
      const backups = (await rw.listBackups()).length;
      const out = { codes: {} };
      for (const [k, blob] of Object.entries(cases)) {
        out.codes[k] = { inspect: await T.failure(rw.inspect(blob)), restore: await T.failure(rw.restore(blob)),
                         diff: await T.failure(rw.diff(blob)) };
      }
      out.unchanged = JSON.stringify(await T.getAll("notes", "notes")) === before;
      out.backups = (await rw.listBackups()).length - backups;
      // The rebuilder itself makes a good file when nothing is changed.
      out.resealedIntact = (await rw.inspect(await resealed(await framesOf(file)))).formatVersion;
      return out;
    });
    const expect = { unsealed: "ChecksumMismatch", notDeflate: "CorruptBackup",
      inflatesToMore: "CorruptBackup", inflatesToFewer: "CorruptBackup" };
    const said = { notDeflate: /do not inflate/, inflatesToMore: /more than the \d+ bytes/, inflatesToFewer: /fewer than the \d+/ };
    for (const [k, code] of Object.entries(expect)) {
      for (const op of ["inspect", "restore", "diff"]) {
        assertCode(r.codes[k][op], code, `${k} ${op}`);
        if (said[k]) assert.match(r.codes[k][op].message, said[k], `${k} ${op}`);
      }
      assert.match(r.codes[k].restore.message, /Nothing was changed/);
    }
    assert.equal(r.unchanged, true, "the records are as they were");
    assert.equal(r.backups, 0, "no automatic backup for a refused restore");
    assert.equal(r.resealedIntact, 4);
  });
});
