// The notes app's storage as version 1.x shipped it, before Rewind: raw IndexedDB, its schema
// grown by `onupgradeneeded` (IndexedDB version 2). Kept for two reasons: it is what
// migrations.json's version 1 describes (a baseline must be exactly the schema users have), and
// the example's test uses it to make such a database before the new app first starts.
const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });

export function open() {
  const r = indexedDB.open("notes", 2);
  r.onupgradeneeded = (e) => {
    const db = r.result;
    if (e.oldVersion < 1) db.createObjectStore("notes", { keyPath: "id", autoIncrement: true });
    if (e.oldVersion < 2) r.transaction.objectStore("notes").createIndex("by_updated", "updated");
  };
  return req(r);
}

export async function addNote(title, body) {
  const db = await open();
  try {
    const tx = db.transaction("notes", "readwrite");
    const id = await req(tx.objectStore("notes").add({ title, body, updated: Date.now() }));
    await new Promise((ok, fail) => { tx.oncomplete = ok; tx.onabort = () => fail(tx.error); });
    return id;
  } finally {
    db.close();
  }
}
