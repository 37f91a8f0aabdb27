// Sealed (encrypted) backups through pkg/: backup, exportBackup, inspect, diff and restore with
// a passphrase; the refusals (none, a wrong one, a changed, cut or extended file) leave the
// data as it was; the file's cleartext names no store or label. Layout: docs/backup-format.md,
// "Version 5: sealed".
import { test } from "node:test";
import assert from "node:assert/strict";
import { withPage, assertCode } from "./setup.mjs";

const SETUP = `
  window.M = [
    { version: 1, name: "items", up: [{ op: "createStore", store: "secretstorename", keyPath: "id" }],
      down: [{ op: "deleteStore", store: "secretstorename" }] },
  ];
  // The header's fields (little-endian) the tests read.
  window.header = async (blob) => {
    const b = new Uint8Array(await blob.slice(0, 84).arrayBuffer());
    const v = new DataView(b.buffer);
    return { magic: [...b.slice(0, 8)], version: v.getUint32(8, true), kdf: b[16], cipher: b[17],
             iterations: v.getUint32(20, true), segment: v.getUint32(40, true) };
  };
  // Whether \`needle\` (ASCII) occurs in the bytes of \`blob\`.
  window.contains = async (blob, needle) => {
    const hay = new Uint8Array(await blob.arrayBuffer());
    const n = new TextEncoder().encode(needle);
    outer: for (let i = 0; i + n.length <= hay.length; i++) {
      for (let j = 0; j < n.length; j++) if (hay[i + j] !== n[j]) continue outer;
      return true;
    }
    return false;
  };
`;

test("a sealed backup: listed as sealed, exported sealed, read back only with its passphrase", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("vault", M);
      await rw.migrateTo();
      await T.put("vault", "secretstorename", [{ id: 1, text: "classified words" }, { id: 2, text: "more" }]);
      const pass = "correct horse battery staple";
      const manifest = await rw.backup("mylabelsecret", { passphrase: pass });
      const listed = await rw.listBackups();
      const file = await rw.exportBackup(manifest.id, { passphrase: pass });
      const inspected = await rw.inspect(file, { passphrase: pass });
      const byId = await rw.inspect(manifest.id, { passphrase: pass });
      const diff = await rw.diff(file, { passphrase: pass });
      return {
        manifest, listed, inspected, byId, diff: diff.stores,
        header: await header(file),
        size: file.size, name: file.name,
        leaks: {
          store: await contains(file, "secretstorename"), label: await contains(file, "mylabelsecret"),
          record: await contains(file, "classified"), database: await contains(file, "vault"),
        },
        exportNone: await T.failure(rw.exportBackup(manifest.id)),
        exportWrong: await T.failure(rw.exportBackup(manifest.id, { passphrase: "wrong" })),
        inspectNone: await T.failure(rw.inspect(manifest.id)),
        inspectFileNone: await T.failure(rw.inspect(file)),
        diffNone: await T.failure(rw.diff(file)),
        empty: await T.failure(rw.inspect(file, { passphrase: "" })),
        notString: await T.failure(rw.backup("x", { passphrase: 42 })),
      };
    });
    assert.equal(r.manifest.sealed, true);
    assert.equal(r.manifest.label, "mylabelsecret");
    assert.equal(r.listed.length, 1);
    assert.equal(r.listed[0].sealed, true, "listBackups says it is sealed");
    assert.deepEqual(r.header.magic, [0x89, 0x52, 0x57, 0x4e, 0x44, 0x0d, 0x0a, 0x1a]);
    assert.equal(r.header.version, 5);
    assert.deepEqual([r.header.kdf, r.header.cipher], [1, 1]);
    assert.ok(r.header.iterations >= 600_000, `iterations ${r.header.iterations}`);
    assert.equal(r.header.segment, 1 << 20);
    assert.match(r.name, /^vault-v1-\d{8}T\d{6}Z\.rewind$/);
    assert.deepEqual(r.leaks, { store: false, label: false, record: false, database: false },
      "the sealed file's bytes name no store, label, record or database");
    const { sealed: _, ...inner } = r.manifest;
    assert.deepEqual(r.inspected, inner, "inspect with the passphrase gives the manifest");
    assert.deepEqual(r.byId, inner, "inspect by id with the passphrase reads the sealed file");
    assert.deepEqual(r.diff.map((s) => [s.store, s.unchanged]), [["secretstorename", 2]]);
    assertCode(r.exportNone, "PassphraseRequired", "export of a sealed backup without a passphrase");
    assertCode(r.exportWrong, "WrongPassphrase", "export of a sealed backup with another passphrase");
    assertCode(r.inspectNone, "PassphraseRequired", "inspect by id without a passphrase");
    assertCode(r.inspectFileNone, "PassphraseRequired", "inspect of the file without a passphrase");
    assertCode(r.diffNone, "PassphraseRequired", "diff without a passphrase");
    assertCode(r.empty, "InvalidArgument", "an empty passphrase");
    assertCode(r.notString, "InvalidArgument", "a passphrase that is not a string");
  });
});

test("refused restores of a sealed file (no, wrong passphrase; changed, cut, extended) change nothing", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("vault", M);
      await rw.migrateTo();
      // Big enough for three segments (1 MiB each): random bytes do not compress.
      const noise = (n) => { const b = new Uint8Array(n); for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, i + 65536)); return b; };
      await T.put("vault", "secretstorename", [{ id: 1, bytes: noise(1_300_000) }, { id: 2, bytes: noise(1_300_000) }]);
      const pass = "pässwörd";  // not ASCII: NFC UTF-8 bytes
      const plain = await rw.backup("plain");
      const file = await rw.exportBackup(plain.id, { passphrase: pass });
      await T.put("vault", "secretstorename", [{ id: 1, text: "live" }, { id: 3, text: "live too" }]);
      const live = async () => T.shape(await T.getAll("vault", "secretstorename"));
      const before = await live();
      const size = file.size;
      const segment = (1 << 20) + 16;
      const cases = {
        none: [file, undefined],
        wrong: [file, "password"],
        // A byte of the second segment's ciphertext.
        changed: [await T.edited(file, (b) => { b[84 + segment + 100] ^= 1; }), pass],
        // A byte of the last segment's tag.
        tag: [await T.edited(file, (b) => { b[size - 1] ^= 1; }), pass],
        // Cut at a segment's end: the last one left is not marked last.
        cut: [file.slice(0, 84 + 2 * segment), pass],
        cutInside: [file.slice(0, size - 1000), pass],
        appended: [new Blob([file, new Uint8Array(40)]), pass],
        appendedSegment: [new Blob([file, file.slice(84, 84 + segment)]), pass],
        headerByte: [await T.edited(file, (b) => { b[30] ^= 1; }), pass],
      };
      const out = {};
      for (const [k, [blob, passphrase]] of Object.entries(cases)) {
        const opts = passphrase === undefined ? {} : { passphrase };
        out[k] = { restore: await T.failure(rw.restore(blob, opts)), inspect: await T.failure(rw.inspect(blob, opts)) };
      }
      out.unchanged = JSON.stringify(await live()) === JSON.stringify(before);
      out.backups = (await rw.listBackups()).length;
      // The right passphrase restores it.
      out.report = await rw.restore(file, { passphrase: "pa\u0308sswo\u0308rd" });  // the same, NFD
      out.after = (await T.getAll("vault", "secretstorename")).map((x) => [x.id, x.bytes?.length]);
      out.segments = (size - 84) / segment;
      return out;
    });
    const expect = { none: "PassphraseRequired", wrong: "WrongPassphrase", changed: "CorruptBackup",
      tag: "CorruptBackup", cut: "CorruptBackup", cutInside: "CorruptBackup", appended: "CorruptBackup",
      appendedSegment: "CorruptBackup", headerByte: "CorruptBackup" };
    for (const [k, code] of Object.entries(expect)) {
      for (const op of ["restore", "inspect"]) {
        assertCode(r[k][op], code, `${k} ${op}`);
        assert.match(r[k][op].message, /Nothing was changed/, `${k} ${op}`);
      }
    }
    assert.match(r.changed.restore.message, /segment 2 of 3/);
    assert.ok(r.unchanged, "every refused restore left the data as it was");
    assert.equal(r.backups, 1, "no automatic backup for a refused restore");
    assert.ok(r.segments > 2 && r.segments <= 3, `${r.segments} segments`);
    assert.equal(typeof r.report.backupId, "string", "the restore took its automatic backup");
    assert.deepEqual(r.after, [[1, 1_300_000], [2, 1_300_000]]);
  });
});

test("automatic backups are never sealed; a passphrase for a file that is not sealed is not needed", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("vault", M);
      await rw.migrateTo();
      await T.put("vault", "secretstorename", [{ id: 1 }]);
      const sealed = await rw.backup("s", { passphrase: "p" });
      await rw.restore(sealed.id, { passphrase: "p" });
      const list = await rw.listBackups();
      const plainFile = await rw.exportBackup(list.find((m) => m.automatic).id);
      return {
        list: list.map((m) => [m.automatic, m.sealed ?? false]),
        inspected: (await rw.inspect(plainFile, { passphrase: "unused" })).formatVersion,
        version: (await header(plainFile)).version,
      };
    });
    assert.deepEqual(r.list.sort(), [[false, true], [true, false]]);
    assert.notEqual(r.version, 5);
    assert.equal(r.inspected, r.version);
  });
});
