// Rewind used the way any page can: import the ES module from pkg/, hand it the migrations,
// call its methods. Every method returns a Promise; failures are Errors with a stable `code`.
import init, { Rewind } from "../../pkg/rewind.js";

const migrations = [
  {
    version: 1, name: "notes",
    up: [
      { op: "createStore", store: "notes", keyPath: "id", autoIncrement: true },
      { op: "createIndex", store: "notes", index: "by_updated", keyPath: "updatedAt" },
    ],
    down: [{ op: "deleteStore", store: "notes" }],
  },
  {
    version: 2, name: "tags",
    up: [
      { op: "addField", store: "notes", field: "tags", value: [] },
      { op: "createIndex", store: "notes", index: "by_tag", keyPath: "tags", multiEntry: true },
    ],
    down: [
      { op: "deleteIndex", store: "notes", index: "by_tag" },
      { op: "removeField", store: "notes", field: "tags" },
    ],
  },
  {
    version: 3, name: "word counts",
    up: [{
      op: "transform", store: "notes", description: "sets words from the text",
      // Runs on every record inside the upgrade transaction; must be synchronous.
      fn: (note) => ({ ...note, words: note.text.split(/\s+/).filter(Boolean).length }),
    }],
    down: [{ op: "removeField", store: "notes", field: "words" }],
  },
];

const $ = (id) => document.getElementById(id);
const log = (...parts) => {
  $("log").textContent += parts.map((p) => (typeof p === "string" ? p : JSON.stringify(p, null, 1))).join(" ") + "\n";
};
const state = (text) => { $("state").textContent = text; };
const progress = (what) => ({ onProgress: (done, total) => state(`${what}: ${done} of ${total}`) });

function countNotes() {
  return new Promise((ok, fail) => {
    const open = indexedDB.open("plain-js-notes");
    open.onerror = () => fail(open.error);
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains("notes")) { db.close(); ok(0); return; }
      const count = db.transaction("notes").objectStore("notes").count();
      count.onsuccess = () => { db.close(); ok(count.result); };
      count.onerror = () => { db.close(); fail(count.error); };
    };
  });
}

await init();
const rw = await Rewind.open("plain-js-notes", migrations, { keepAutomaticBackups: 3 });

const actions = {
  async migrate() {
    const report = await rw.migrateTo(undefined, progress("Backing up first"));
    log("migrated:", report);
  },
  async fill() {
    const db = await new Promise((ok, fail) => {
      const open = indexedDB.open("plain-js-notes");
      open.onsuccess = () => ok(open.result);
      open.onerror = () => fail(open.error);
    });
    await new Promise((ok, fail) => {
      const tx = db.transaction("notes", "readwrite");
      for (let i = 0; i < 100; i++) {
        tx.objectStore("notes").add({ text: `note ${i} says hello`, updatedAt: new Date(), tags: ["demo"] });
      }
      tx.oncomplete = ok;
      tx.onerror = () => fail(tx.error);
    });
    db.close();
    log("notes now:", String(await countNotes()));
  },
  async backup() {
    const manifest = await rw.backup("by hand", progress("Backing up"));
    log("backup:", { id: manifest.id, schemaVersion: manifest.schemaVersion, bytes: manifest.bytes, records: manifest.stores.map((s) => [s.schema.name, s.records]) });
  },
  async rollback() {
    log("plan:", (await rw.plan(1)).steps.map((s) => s.description));
    log("rolled back:", await rw.rollbackTo(1, progress("Backing up first")));
  },
  async restore() {
    const manual = (await rw.listBackups()).find((b) => !b.automatic);
    if (!manual) { log("no manual backup yet"); return; }
    log("restored:", await rw.restore(manual.id, progress("Restoring")));
  },
  async download() {
    const [newest] = await rw.listBackups();
    if (!newest) { log("no backup yet"); return; }
    const file = await rw.exportBackup(newest.id);
    const a = Object.assign(document.createElement("a"), { href: URL.createObjectURL(file), download: file.name });
    a.click();
    URL.revokeObjectURL(a.href);
    log("downloaded", file.name);
  },
  async file(input) {
    const [file] = input.files;
    if (!file) return;
    const manifest = await rw.inspect(file); // verified completely; changes nothing
    log("file holds:", { database: manifest.database, schemaVersion: manifest.schemaVersion, label: manifest.label });
    log("restored:", await rw.restore(file, { allowOtherDatabase: false, ...progress("Restoring") }));
  },
  async demo() {
    await actions.migrate();
    await actions.fill();
    await actions.backup();
    await actions.rollback();
    const status = await rw.status();
    log("status:", { schemaVersion: status.schemaVersion, pending: status.pending, notes: await countNotes() });
    await actions.restore();
    const after = await rw.status();
    log("after restore:", { schemaVersion: after.schemaVersion, notes: await countNotes(), valid: (await rw.validate()).ok });
    try {
      await rw.inspect(new Blob(["not a backup"]));
    } catch (e) {
      log(`a bad file is refused: ${e.code}`);
    }
  },
};

async function run(name, arg) {
  for (const b of document.querySelectorAll("button, input")) b.disabled = true;
  try {
    state(`${name}…`);
    await actions[name](arg);
    const s = await rw.status();
    state(`Done: ${name}. Schema version ${s.schemaVersion} of ${s.latestVersion}.`);
  } catch (e) {
    state(`Failed (${e.code ?? e.name}): ${e.message}`);
    log(`error ${e.code}: ${e.message}`);
  } finally {
    for (const b of document.querySelectorAll("button, input")) b.disabled = false;
  }
}

for (const name of ["demo", "migrate", "fill", "backup", "rollback", "restore", "download"]) {
  $(name).addEventListener("click", () => run(name));
}
$("file").addEventListener("change", (e) => run("file", e.target));
for (const b of document.querySelectorAll("button, input")) b.disabled = false;
state("Ready.");
