// Checks that every migration in ../migrations.json can be undone: Rewind.checkMigrations runs
// each one up, down and up again in a scratch database of its own (deleted afterwards; the
// app's "notes" database is never touched) over sample notes, and reports per migration whether
// `down` gave back the schema and every note as it was.
import init, { Rewind } from "rewind-indexeddb";

await init();
const migrations = await (await fetch("../migrations.json")).json();
// Notes as the app writes them, from 1.x (legacy/notes-db.js: title, body, updated) on.
const notes = [
  { id: 1, title: "groceries", body: "milk\neggs", updated: 1700000000000 },
  { id: 2, title: "empty", body: "", updated: 1700000000001 },
  { id: 3, title: "no body field", updated: 1700000000002 },
];
let report;
try {
  report = await Rewind.checkMigrations(migrations, { sample: { notes } });
} catch (e) {
  report = { passed: false, error: { code: e.code, message: e.message } };
}
window.historyReport = report;
document.getElementById("report").textContent = JSON.stringify(report, null, 2);
