// The File System Access API calls of the backup folder (`folder.rs` decides; this only
// carries out). Every function returns a Promise that settles.

// What this browser offers: directory handles at all (OPFS included), and a picker a person
// can choose a folder of their disk with.
export function folderSupport() {
  return {
    handles: typeof globalThis.FileSystemDirectoryHandle === "function",
    picker: typeof globalThis.showDirectoryPicker === "function",
    writable:
      typeof globalThis.FileSystemFileHandle === "function" &&
      typeof globalThis.FileSystemFileHandle.prototype.createWritable === "function",
  };
}

// Whether `value` is a directory handle (or an object that behaves as one: it has the methods
// Rewind calls).
export function isDirectoryHandle(value) {
  return (
    value !== null &&
    typeof value === "object" &&
    value.kind === "directory" &&
    typeof value.getFileHandle === "function" &&
    typeof value.removeEntry === "function"
  );
}

export function handleName(handle) {
  return String(handle.name ?? "");
}

// "granted", "denied" or "prompt" for writing, as the browser says now. A handle without
// permission methods (the origin private file system) is always writable. With `request`, a
// permission that is not granted is asked for (the browser wants a person's gesture for it).
export async function folderPermission(handle, request) {
  const descriptor = { mode: "readwrite" };
  if (typeof handle.queryPermission !== "function") return "granted";
  let state = await handle.queryPermission(descriptor);
  if (state !== "granted" && request && typeof handle.requestPermission === "function") {
    state = await handle.requestPermission(descriptor);
  }
  return String(state);
}

function notFound(e) {
  return e && (e.name === "NotFoundError" || e.name === "TypeMismatchError");
}

// The text of file `name`, or null where the folder has none.
export async function readText(handle, name) {
  let file;
  try {
    file = await (await handle.getFileHandle(name)).getFile();
  } catch (e) {
    if (notFound(e)) return null;
    throw e;
  }
  return await file.text();
}

// Writes `data` (a Blob or a string) as file `name`. A writable stream writes to a file of its
// own that replaces `name` only when it is closed: until then `name` is as it was, and an
// aborted write leaves it so.
export async function writeFile(handle, name, data) {
  const file = await handle.getFileHandle(name, { create: true });
  if (typeof file.createWritable !== "function") {
    throw new DOMException("this browser cannot write files to a folder (no createWritable)", "NotSupportedError");
  }
  const writable = await file.createWritable();
  try {
    await writable.write(data);
  } catch (e) {
    try {
      await writable.abort();
    } catch {
      // Already failed: the error that matters is the write's.
    }
    throw e;
  }
  await writable.close();
}

// A backup into the folder, in the order that keeps every listed file whole and present: the
// file `name` (`blob`), then the manifest (`manifestText`, which lists it and no longer lists
// `expired`), then the expired files. One left behind by a failure there is only unlisted.
export async function writeBackup(handle, name, blob, manifestName, manifestText, expired) {
  await writeFile(handle, name, blob);
  await writeFile(handle, manifestName, manifestText);
  for (const old of expired) {
    try {
      await removeFile(handle, old);
    } catch {
      // Unlisted already: it takes room, it is never offered.
    }
  }
}

// File `name` as a File, or null where the folder has none.
export async function readFile(handle, name) {
  try {
    return await (await handle.getFileHandle(name)).getFile();
  } catch (e) {
    if (notFound(e)) return null;
    throw e;
  }
}

// Removes file `name`; one already gone is fine.
export async function removeFile(handle, name) {
  try {
    await handle.removeEntry(name);
  } catch (e) {
    if (!notFound(e)) throw e;
  }
}
