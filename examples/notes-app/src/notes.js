// The app's own reads and writes, once Rewind has brought the database to the latest version
// (migrations.json): plain IndexedDB, no version given, so the app never upgrades the database
// itself — only Rewind does, with a backup first and all-or-nothing.
const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });

export const DB = "notes";

async function withStore(mode, f) {
  const db = await req(indexedDB.open(DB));
  try {
    const tx = db.transaction("notes", mode);
    const result = await f(tx.objectStore("notes"));
    await new Promise((ok, fail) => { tx.oncomplete = ok; tx.onabort = () => fail(tx.error); });
    return result;
  } finally {
    db.close();
  }
}

/** Newest first. */
export async function listNotes() {
  const notes = await withStore("readonly", (s) => req(s.index("by_updated").getAll()));
  return notes.reverse();
}

export function addNote({ title, text, tags = [] }) {
  return withStore("readwrite", (s) => req(s.add({ title, text, tags, updated: Date.now() })));
}

export function deleteNote(id) {
  return withStore("readwrite", (s) => req(s.delete(id)));
}
