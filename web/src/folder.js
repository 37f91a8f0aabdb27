// The browser's folder picker, for the backup folder. A person who closes it without choosing
// gets null (no error: nothing was asked of the page).
export async function pickFolder() {
  try {
    return await globalThis.showDirectoryPicker({ id: "rewind-backups", mode: "readwrite" });
  } catch (e) {
    if (e && e.name === "AbortError") return null;
    throw e;
  }
}
