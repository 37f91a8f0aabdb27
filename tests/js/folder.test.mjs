// The backup folder through pkg/: setBackupFolder with a real directory handle (the origin
// private file system's, which needs no picker), manual and automatic backups written there and
// listed by its manifest, a listed file restored, retention, the schedule, and the refusals:
// permission denied (nothing kept), permission that lapses (the operation succeeds, the folder
// write is reported failed).
import { test } from "node:test";
import assert from "node:assert/strict";
import { withPage, assertCode, ENGINE } from "./setup.mjs";

const SETUP = `
  window.M = [
    { version: 1, name: "items", up: [{ op: "createStore", store: "items", keyPath: "id" }],
      down: [{ op: "deleteStore", store: "items" }] },
    { version: 2, name: "labels", up: [{ op: "addField", store: "items", field: "label", value: "none" }],
      down: [{ op: "removeField", store: "items", field: "label" }] },
  ];
  // A fresh folder of the origin private file system.
  window.freshFolder = async (name) => {
    const root = await navigator.storage.getDirectory();
    try { await root.removeEntry(name, { recursive: true }); } catch {}
    return await root.getDirectoryHandle(name, { create: true });
  };
  window.namesIn = async (folder) => {
    const names = [];
    for await (const [name] of folder.entries()) names.push(name);
    return names.sort();
  };
  window.folderManifest = async (folder) =>
    JSON.parse(await (await (await folder.getFileHandle("rewind-backups.json")).getFile()).text());
`;

// What each engine gives (asserted exactly): Chromium and Firefox write to OPFS folders;
// neither Firefox nor WebKit has a picker.
const WRITES = ENGINE !== "webkit";

test("the folder's support is what the engine has", async () => {
  await withPage(async (page) => {
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("notes", []);
      return {
        folder: await rw.backupFolder(),
        picker: typeof window.showDirectoryPicker,
        writable: typeof globalThis.FileSystemFileHandle?.prototype?.createWritable,
        handles: typeof globalThis.FileSystemDirectoryHandle,
        // Something shaped as a directory handle, where the browser cannot write files.
        refused: await T.failure(rw.setBackupFolder({ kind: "directory", name: "x", getFileHandle() {}, removeEntry() {} })),
        after: await rw.backupFolder(),
      };
    });
    assert.equal(r.folder.picker, ENGINE === "chromium");
    assert.equal(r.picker, ENGINE === "chromium" ? "function" : "undefined");
    assert.deepEqual(r.folder, {
      state: WRITES ? "notChosen" : "unsupported",
      picker: ENGINE === "chromium",
    });
    // WebKit (WebKitGTK under test) has no file system handles at all.
    assert.equal(r.handles, WRITES ? "function" : "undefined");
    assert.equal(r.writable, WRITES ? "function" : "undefined");
    if (!WRITES) {
      assertCode(r.refused, "FolderUnavailable", "no folder writes in this browser");
      assert.match(r.refused.message, /cannot write files to a folder/);
      assert.equal(r.after.state, "unsupported");
    }
  });
});

test("manual and automatic backups land in the folder, listed last by its manifest; a listed file restores; keep prunes", { skip: !WRITES && "no writable folders in this engine" }, async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const folder = await freshFolder("backups");
      const rw = await Rewind.open("notes", M);
      await rw.migrateTo(1);
      await T.put("notes", "items", [{ id: 1, title: "first" }]);
      const set = await rw.setBackupFolder(folder, { keep: 2 });
      const manual = await rw.backup("mine");
      const migrated = await rw.migrateTo(2);
      const listed = await rw.folderBackups();
      const files = await namesIn(folder);
      const manifest = await folderManifest(folder);
      // The manual backup (version 1, one record) restored from its file in the folder.
      await T.put("notes", "items", [{ id: 2, title: "second", label: "x" }]);
      const file = await rw.folderBackupFile(manual.folder.name);
      const inspected = await rw.inspect(file);
      const restored = await rw.restore(file);
      const afterRestore = await T.getAll("notes", "items");
      const status = await rw.status();
      // A third automatic backup: keep 2 removes the oldest automatic one (never the manual).
      const again = await rw.migrateTo(2);
      const pruned = await rw.folderBackups();
      const filesAfter = await namesIn(folder);
      const missing = await T.failure(rw.folderBackupFile("not-there.rewind"));
      const state = await rw.backupFolder();
      return { set, manual, migrated, listed, files, manifest, file: { name: file.name, size: file.size, isFile: file instanceof File },
        inspected, restored, afterRestore, version: status.currentVersion ?? status.schemaVersion, again, pruned, filesAfter, missing, state };
    });
    assert.equal(r.set.state, "ok");
    assert.equal(r.set.name, "backups");
    assert.equal(r.set.keep, 2);
    assert.equal(r.set.every, undefined, "no schedule unless asked");
    assert.equal(r.manual.folder.written, true);
    assert.match(r.manual.folder.name, /^notes-v1-\d{8}T\d{6}Z(-\d+)?\.rewind$/);
    assert.equal(r.migrated.folder.written, true, JSON.stringify(r.migrated));
    assert.ok(r.migrated.backupId);
    assert.deepEqual(r.listed.map((e) => [e.reason, e.schemaVersion]), [["automatic", 1], ["manual", 1]]);
    assert.equal(r.listed[1].name, r.manual.folder.name);
    assert.equal(r.listed[1].size, r.manual.bytes);
    assert.equal(r.listed[1].sha256, r.manual.sha256);
    assert.equal(r.listed[1].label, "mine");
    assert.equal(r.listed[0].id, r.migrated.backupId);
    assert.deepEqual(r.files, [...r.listed.map((e) => e.name), "rewind-backups.json"].sort());
    assert.equal(r.manifest.format, 1);
    assert.equal(r.manifest.backups.length, 2);
    assert.deepEqual(r.file, { name: r.manual.folder.name, size: r.manual.bytes, isFile: true });
    assert.equal(r.inspected.sha256, r.manual.sha256, "the file in the folder is the backup, byte for byte");
    assert.equal(r.restored.folder.written, true, "the restore's automatic backup is written too");
    assert.deepEqual(r.afterRestore, [{ id: 1, title: "first" }]);
    assert.equal(r.again.folder.written, true);
    // manual + the newest two automatic ones; the first automatic file is gone.
    assert.deepEqual(r.pruned.map((e) => e.reason), ["automatic", "automatic", "manual"]);
    assert.ok(!r.pruned.some((e) => e.name === r.listed[0].name), "the oldest automatic one is unlisted");
    assert.ok(!r.filesAfter.includes(r.listed[0].name), "and removed");
    assert.deepEqual(r.filesAfter, [...r.pruned.map((e) => e.name), "rewind-backups.json"].sort());
    assertCode(r.missing, "NoSuchBackup", "a file the manifest does not list");
    assert.equal(r.state.state, "ok");
    assert.equal(typeof r.state.lastWritten, "number");
    assert.equal(r.state.lastError, undefined);
  });
});

test("backups of two databases written into one folder at once are all listed: the manifest is rewritten by one writer at a time", { skip: !WRITES && "no writable folders in this engine" }, async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const folder = await freshFolder("shared");
      const [a, b] = [await Rewind.open("shared-a", M), await Rewind.open("shared-b", M)];
      for (const rw of [a, b]) {
        await rw.migrateTo(1);
        await rw.setBackupFolder(folder);
      }
      await T.put("shared-a", "items", Array.from({ length: 300 }, (_, i) => ({ id: i, text: "a".repeat(2000) })));
      const made = await Promise.all([a, b, a, b].map((rw, i) => rw.backup(`at once ${i}`)));
      const manifest = await folderManifest(folder);
      return { made: made.map((m) => [m.folder.written, m.folder.name]), listed: manifest.backups.map((e) => e.name).sort(), files: await namesIn(folder) };
    });
    assert.ok(r.made.every(([written]) => written), JSON.stringify(r.made));
    const names = r.made.map(([, name]) => name).sort();
    assert.equal(new Set(names).size, 4, "four files of their own");
    assert.deepEqual(r.listed, names, "every one listed");
    assert.deepEqual(r.files, [...names, "rewind-backups.json"].sort());
  });
});

test("setBackupFolder refuses bad options and what is not a folder, changing nothing", async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const rw = await Rewind.open("notes", M);
      const folder = typeof FileSystemDirectoryHandle === "function" ? await freshFolder("bad") : { kind: "directory", getFileHandle() {}, removeEntry() {} };
      return {
        every: await T.failure(rw.setBackupFolder(folder, { every: "1w" })),
        zero: await T.failure(rw.setBackupFolder(folder, { every: "0h" })),
        keep: await T.failure(rw.setBackupFolder(folder, { keep: 0 })),
        many: await T.failure(rw.setBackupFolder(folder, { keep: 1001 })),
        unknown: await T.failure(rw.setBackupFolder(folder, { often: true })),
        notFolder: await T.failure(rw.setBackupFolder("backups")),
        state: await rw.backupFolder(),
      };
    });
    for (const k of ["every", "zero", "keep", "many", "unknown", "notFolder"]) assertCode(r[k], "InvalidArgument", k);
    assert.match(r.every.message, /like "30m", "24h", "7d"/);
    assert.match(r.keep.message, /from 1 to 1000/);
    assert.equal(r.state.state, WRITES ? "notChosen" : "unsupported");
  });
});

test("folder permission denied: refused with nothing kept, nothing written", { skip: !WRITES && "no writable folders in this engine" }, async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const real = await freshFolder("denied");
      // A directory handle whose browser says no (as a person refusing the prompt would).
      const asked = [];
      const denied = {
        kind: "directory",
        name: real.name,
        getFileHandle: (...a) => real.getFileHandle(...a),
        removeEntry: (...a) => real.removeEntry(...a),
        queryPermission: async (d) => { asked.push(["query", d.mode]); return "prompt"; },
        requestPermission: async (d) => { asked.push(["request", d.mode]); return "denied"; },
      };
      const rw = await Rewind.open("notes", M);
      await rw.migrateTo(1);
      const backupsBefore = await rw.listBackups();
      const refused = await T.failure(rw.setBackupFolder(denied, { every: "24h" }));
      const state = await rw.backupFolder();
      const backup = await rw.backup("after the refusal");
      return { refused, state, asked, backupsBefore, backupsAfter: (await rw.listBackups()).length,
        files: await namesIn(real), backup, listing: await T.failure(rw.folderBackups()) };
    });
    assertCode(r.refused, "FolderPermissionDenied", "denied");
    assert.match(r.refused.message, /^folder permission denied/);
    assert.deepEqual(r.asked, [["query", "readwrite"], ["request", "readwrite"]]);
    assert.equal(r.state.state, "notChosen", "nothing kept");
    assert.equal(r.backupsBefore.length, 0);
    assert.deepEqual(r.files, [], "nothing written to the folder");
    assert.equal(r.backup.folder, undefined, "no folder: no folder write");
    assertCode(r.listing, "NoFolder", "no folder to list");
  });
});

test("a folder whose permission lapses reads needsPermission; an operation still succeeds and reports its folder write failed", { skip: ENGINE !== "chromium" && "only Chromium's handles have permissions to lapse" }, async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const folder = await freshFolder("lapsing");
      const rw = await Rewind.open("notes", M);
      await rw.migrateTo(1);
      await T.put("notes", "items", [{ id: 1 }]);
      const set = await rw.setBackupFolder(folder);
      // The browser now says "prompt" for every handle (the handle kept in IndexedDB too).
      const proto = Object.getPrototypeOf(Object.getPrototypeOf(folder));
      const original = proto.queryPermission;
      proto.queryPermission = async () => "prompt";
      const lapsed = await rw.backupFolder();
      const migrated = await rw.migrateTo(2);
      const after = await rw.backupFolder();
      const status = await rw.status();
      const files = await namesIn(folder);
      // The page's "Grant access": asked again, granted.
      proto.requestPermission = async () => "granted";
      proto.queryPermission = original;
      const granted = await rw.requestFolderPermission();
      await rw.forgetBackupFolder();
      const forgotten = await rw.backupFolder();
      return { set, lapsed, migrated, after, version: status, files, granted, forgotten };
    });
    assert.equal(r.set.state, "ok");
    assert.equal(r.lapsed.state, "needsPermission", "never a remembered ok");
    assert.equal(r.migrated.to, 2, "the migration ran");
    assert.ok(r.migrated.backupId, "its automatic backup is in the catalog");
    assert.equal(r.migrated.folder.written, false);
    assert.match(r.migrated.folder.error, /folder permission denied/);
    assert.equal(r.after.state, "needsPermission");
    assert.equal(r.after.lastError, r.migrated.folder.error);
    assert.deepEqual(r.files, [], "nothing written to the folder");
    assert.equal(r.granted.state, "ok");
    assert.deepEqual(r.forgotten, { state: "notChosen", picker: true });
  });
});

test("the schedule writes once `every` has passed, whatever the page asks meanwhile, and keeps `keep`", { skip: !WRITES && "no writable folders in this engine" }, async () => {
  await withPage(async (page) => {
    await page.evaluate(SETUP);
    const r = await page.evaluate(async () => {
      const folder = await freshFolder("scheduled");
      const rw = await Rewind.open("notes", M);
      await rw.migrateTo(1);
      await T.put("notes", "items", [{ id: 1 }]);
      const set = await rw.setBackupFolder(folder, { every: "1s", keep: 2 });
      // Asks for the status all the time (a page polling): the timer is not restarted by it.
      const writes = new Set();
      let statusCalls = 0;
      const deadline = Date.now() + 60_000;
      while (writes.size < 3 && Date.now() < deadline) {
        await rw.status();
        statusCalls++;
        const state = await rw.backupFolder();
        if (state.lastWritten) writes.add(state.lastWritten);
        await new Promise((ok) => setTimeout(ok, 100));
      }
      const listed = await rw.folderBackups();
      rw.close();
      return { set, writes: writes.size, statusCalls, listed, files: await namesIn(folder), catalog: (await (await Rewind.open("notes", M)).listBackups()).length };
    });
    assert.equal(r.set.every, "1s");
    assert.equal(r.writes, 3, "three scheduled writes seen");
    assert.ok(r.statusCalls > 3);
    assert.deepEqual(r.listed.map((e) => [e.reason, e.label]), [["scheduled", "scheduled backup"], ["scheduled", "scheduled backup"]], "keep 2");
    assert.deepEqual(r.files, [...r.listed.map((e) => e.name), "rewind-backups.json"].sort());
    assert.equal(r.catalog, 0, "scheduled backups live in the folder only");
  });
});
