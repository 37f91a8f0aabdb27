// The demo notes app's transforms, by name, as an app ships them beside its rewind.json. They
// run inside the migration's upgrade transaction, on each record, synchronously.

/** count_words (migration 3): sets meta.wordCount from content (0 when there is none). */
export function count_words(note) {
  const content = typeof note.content === "string" ? note.content : "";
  const words = content.split(/\s+/).filter((w) => w !== "").length;
  const meta = note.meta !== null && typeof note.meta === "object" ? note.meta : {};
  meta.wordCount = words;
  note.meta = meta;
}
