// Helpers for test pages that drive pkg/ in the browser (tests/js, tests/faults).

/** The rejection of `p` as plain data (or `{ resolved: true }`), to return from page.evaluate. */
export async function failure(p) {
  try {
    await p;
  } catch (e) {
    return { isError: e instanceof Error, name: e.name, code: e.code, message: e.message };
  }
  return { resolved: true };
}

/** Any stored value as a JSON-able tree that keeps what JSON would lose (types, -0, NaN,
 * Blob bytes, shared and cyclic references). */
export async function shape(v, seen = new Map()) {
  if (v === undefined) return { t: "undefined" };
  if (typeof v === "number") return Object.is(v, -0) ? { t: "-0" } : Number.isNaN(v) ? { t: "NaN" } : v;
  if (typeof v === "bigint") return { t: "bigint", v: String(v) };
  if (v === null || typeof v !== "object") return v;
  if (seen.has(v)) return { t: "ref", v: seen.get(v) };
  seen.set(v, seen.size);
  const tag = Object.prototype.toString.call(v).slice(8, -1);
  const all = (entries) => Promise.all(entries.map(async ([k, x]) => [k, await shape(x, seen)]));
  if (v instanceof Date) return { t: "Date", v: v.getTime() };
  if (v instanceof Blob) return { t: tag, type: v.type, name: v.name, text: await v.text() };
  if (ArrayBuffer.isView(v)) return { t: tag, v: [...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)] };
  if (v instanceof ArrayBuffer) return { t: tag, v: [...new Uint8Array(v)] };
  if (v instanceof Map) return { t: "Map", v: await Promise.all([...v].map(async ([k, x]) => [await shape(k, seen), await shape(x, seen)])) };
  if (v instanceof Set) return { t: "Set", v: await Promise.all([...v].map((x) => shape(x, seen))) };
  if (v instanceof RegExp) return { t: "RegExp", v: String(v) };
  if (Array.isArray(v)) return { t: "Array", length: v.length, v: await all(Object.keys(v).map((k) => [k, v[k]])) };
  return { t: tag, v: await all(Object.keys(v).map((k) => [k, v[k]])) };
}
