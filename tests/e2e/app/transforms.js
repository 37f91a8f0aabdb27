// The test app's transforms, exported by name as rewind.json's "transforms" module.
export const SEPARATOR = " "; // not a function: not a transform, ignored by the page

export function count_words(note) {
  return { ...note, words: note.text.split(SEPARATOR).length };
}
