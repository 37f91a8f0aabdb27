// The 1.x page: opens (and so creates) the database, and lets a test add notes as 1.x did.
import { open, addNote } from "./notes-db.js";

window.legacy = { addNote };
(await open()).close();
document.getElementById("status").textContent = "ready";
