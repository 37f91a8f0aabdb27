// Notes 2.0: the first version that uses Rewind. At start-up, before the app touches its data,
// Rewind brings the database to the latest version of migrations.json. Users of 1.x already
// have a database Rewind has no record of; `baseline: "auto"` adopts it at the version whose
// schema it has (version 1 describes exactly what 1.x made), after an automatic backup, and then
// migrates it. A new user's empty database simply migrates from 0.
import init, { Rewind } from "rewind-indexeddb";
// esbuild's file loader copies the .wasm beside the bundle and gives its URL.
import wasmUrl from "rewind-indexeddb/rewind_bg.wasm";
import { DB, addNote, deleteNote, listNotes } from "./notes.js";

const status = document.getElementById("status");
const list = document.getElementById("notes");
const form = document.getElementById("new-note");

async function migrate() {
  await init({ module_or_path: wasmUrl });
  // The same file the recovery page reads (rewind.json), so the two never disagree on the
  // history; the service worker keeps it for offline starts.
  const migrations = await (await fetch("./migrations.json")).json();
  const rw = await Rewind.open(DB, migrations, { baseline: "auto" });
  try {
    const before = await rw.status();
    const report = await rw.migrateTo();
    return { adopted: !before.managed, report };
  } finally {
    // The app's own connections come after; Rewind's would close on their versionchange anyway.
    rw.close();
  }
}

function render(notes) {
  list.replaceChildren(...notes.map((n) => {
    const item = document.createElement("li");
    const title = document.createElement("h3");
    title.textContent = n.title;
    const text = document.createElement("p");
    text.textContent = n.text;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "Delete";
    remove.setAttribute("aria-label", `Delete ${n.title}`);
    remove.addEventListener("click", async () => { await deleteNote(n.id); await refresh(); });
    item.append(title, text, remove);
    return item;
  }));
}

async function refresh() {
  render(await listNotes());
}

async function start() {
  let result;
  try {
    result = await migrate();
  } catch (e) {
    // Nothing was changed (every Rewind operation is all-or-nothing); the recovery page shows
    // where the database stands and can restore the automatic backup.
    status.textContent = `Your notes could not be upgraded (${e.code ?? e.name}: ${e.message}). Nothing was changed; open the recovery page.`;
    status.setAttribute("role", "alert");
    return;
  }
  const { adopted, report } = result;
  status.textContent = report.from === report.to
    ? `Ready (schema version ${report.to}).`
    : `Ready: ${adopted ? "your notes from Notes 1.x were adopted and " : ""}upgraded from schema version ${report.from} to ${report.to}.`;
  form.querySelector("fieldset").disabled = false;
  await refresh();
  // Ready once the notes show: whoever waits for it (a person, a test) then sees them.
  document.body.dataset.ready = "true";
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const data = new FormData(form);
  await addNote({ title: String(data.get("title")), text: String(data.get("text")) });
  form.reset();
  await refresh();
});

if ("serviceWorker" in navigator) {
  // Offline after the first visit: the worker keeps the page, the bundle, the wasm and the
  // migrations. A failure to register only costs the offline start.
  navigator.serviceWorker.register("./sw.js").catch((e) => console.warn("no offline copy:", e));
}

start();
