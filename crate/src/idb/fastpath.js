// The fast path: whole batches of records encoded and decoded in JavaScript (for `clone.rs`).
//
// Walking a value from Rust costs a dozen boundary crossings per property (type checks,
// `Reflect.get`, string copies). Records made only of the common types — primitives,
// well-formed strings, Dates, plain objects and arrays — are encoded and decoded here, one call
// per batch, byte for byte as `crate::backup::codec` writes them. A record with anything else
// (a Map, a typed array, a lone surrogate, an odd prototype…) ends the batch at that record,
// which then goes through the Rust walker; so the Rust codec stays the reference, and the
// browser tests check both paths give the same bytes.
//
// The tags, key forms and depth limit come from Rust with every call (`codec`, made once by
// `clone.rs` from `crate::backup::codec`), so they are defined once. The module keeps no state
// between calls: each call builds its own encoder or decoder and returns what it made.

// Looked up once, when the module loads: a page that deletes or replaces them later does not
// change how its Blobs and Files are read or made.
const BlobOnce = globalThis.Blob, FileOnce = globalThis.File;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Thrown (and caught here) when a record is not one for the fast path. */
const NOT_PLAIN = Symbol("not plain");

/** Integers up to 2^52 are written as zigzag varints here; from 2^52 to 2^53, zigzag needs
 * more than a double's exact integers, so such records go to Rust. */
const ZIGZAG_SAFE = 4503599627370496;

/**
 * Encodes records `start..end` of `values` (each after its key `keys[i]`) until `end` or the
 * first record the fast path does not handle (Blobs and Files among them: their bytes must be
 * read first). Returns `[reached, bytes]`:
 * the index of the first record not encoded, and the bytes of those before it.
 */
export function rewind_fast_encode(codec, keys, values, start, end, sizeHint) {
  const T = codec.tags;
  let buf = new Uint8Array(Math.max(sizeHint, 1 << 12));
  let view = new DataView(buf.buffer);
  let pos = 0;
  const seen = new Map();
  let nextId = 0;

  function ensure(n) {
    if (pos + n <= buf.length) return;
    let size = buf.length * 2;
    while (size < pos + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(buf.subarray(0, pos));
    buf = grown;
    view = new DataView(grown.buffer);
  }
  function byte(b) { ensure(1); buf[pos++] = b; }
  function varint(n) {
    ensure(10);
    while (n >= 128) { buf[pos++] = (n % 128) | 0x80; n = Math.floor(n / 128); }
    buf[pos++] = n;
  }
  function varintLen(n) { let l = 1; while (n >= 128) { n = Math.floor(n / 128); l++; } return l; }
  function f64(tag, n) { ensure(9); buf[pos++] = tag; view.setFloat64(pos, n, true); pos += 8; }
  function text(s) {
    const len = s.length;
    if (len < 64) {
      let ascii = true;
      for (let i = 0; i < len; i++) if (s.charCodeAt(i) > 0x7f) { ascii = false; break; }
      if (ascii) {
        ensure(len + 10);
        varint(len * 2);
        for (let i = 0; i < len; i++) buf[pos++] = s.charCodeAt(i);
        return;
      }
    }
    if (typeof s.isWellFormed !== "function" || !s.isWellFormed()) throw NOT_PLAIN;
    const max = len * 3;
    ensure(max + 10);
    const guess = varintLen(max * 2);
    const { written } = utf8.encodeInto(s, buf.subarray(pos + guess));
    const actual = varintLen(written * 2);
    if (actual !== guess) buf.copyWithin(pos + actual, pos + guess, pos + guess + written);
    varint(written * 2);
    pos += written;
  }
  function number(n) {
    if (Number.isInteger(n) && Math.abs(n) <= ZIGZAG_SAFE && !(n === 0 && 1 / n < 0)) {
      byte(T.int);
      varint(n >= 0 ? n * 2 : -n * 2 - 1);
    } else if (Number.isInteger(n) && Math.abs(n) <= 2 * ZIGZAG_SAFE && n !== 0) {
      throw NOT_PLAIN;
    } else {
      f64(T.float, n);
    }
  }
  function propKey(k) {
    const len = k.length;
    if (len > 0 && len <= 10) {
      const c0 = k.charCodeAt(0);
      if (c0 >= 48 && c0 <= 57 && (len === 1 || c0 !== 48)) {
        let digits = true;
        for (let i = 1; i < len; i++) {
          const c = k.charCodeAt(i);
          if (c < 48 || c > 57) { digits = false; break; }
        }
        if (digits) {
          const n = +k;
          if (n <= codec.maxIndex) { byte(codec.keyIndex); varint(n); return; }
        }
      }
    }
    byte(codec.keyText);
    text(k);
  }
  function props(v, names, depth) {
    varint(names.length);
    for (let i = 0; i < names.length; i++) {
      const k = names[i];
      propKey(k);
      value(v[k], depth + 1);
    }
  }
  function value(v, depth) {
    if (depth > codec.maxDepth) throw NOT_PLAIN;
    switch (typeof v) {
      case "undefined": byte(T.undefined); return;
      case "boolean": byte(v ? T.true : T.false); return;
      case "number": number(v); return;
      case "string": byte(T.string); text(v); return;
      case "object": break;
      default: throw NOT_PLAIN;
    }
    if (v === null) { byte(T.null); return; }
    const id = seen.get(v);
    if (id !== undefined) { byte(T.ref); varint(id); return; }
    const proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      seen.set(v, nextId++);
      byte(T.object);
      props(v, Object.keys(v), depth);
    } else if (proto === Array.prototype && Array.isArray(v)) {
      seen.set(v, nextId++);
      byte(T.array);
      varint(v.length);
      props(v, Object.keys(v), depth);
    } else if (proto === Date.prototype) {
      seen.set(v, nextId++);
      f64(T.date, v.getTime());
    } else {
      throw NOT_PLAIN;
    }
  }
  function key(k) {
    if (typeof k === "number" && !Number.isNaN(k)) number(k);
    else if (typeof k === "string") { byte(T.string); text(k); }
    else throw NOT_PLAIN;
  }
  /** Each key and value is numbered on its own, from 0. */
  function top(v) { seen.clear(); nextId = 0; value(v, 0); }

  // Anything thrown on the way (not only NOT_PLAIN) hands the record to the Rust walker,
  // which says what is wrong with it, if anything.
  let i = start;
  for (; i < end; i++) {
    const mark = pos;
    try {
      key(keys[i]);
      top(values[i]);
    } catch (e) {
      pos = mark;
      break;
    }
  }
  return [i, buf.subarray(0, pos)];
}

/**
 * Decodes up to `max` records from `bytes` at `offset` (already verified by Rust: anything
 * unexpected ends the batch), stopping before the first record the fast path does not handle.
 * A chunk's Blob whose bytes are a part of the file is a slice of `parts.region` (the file's
 * bytes from the chunk's first part to its last, never read here) at `parts.bounds[2 * cursor]`
 * to `parts.bounds[2 * cursor + 1]`, and the cursor moves on; `parts` is null outside a chunk.
 * A Blob is sliced with its type (one Blob for the browser to register, not two). The records' keys and values are pushed onto `keys` and `values`. Returns
 * `[offset reached, records decoded, cursor reached]`.
 */
export function rewind_fast_decode(codec, bytes, offset, max, parts, cursor, keys, values) {
  const T = codec.tags;
  let at = offset;
  let objects = [];
  const f8 = new Float64Array(1), u8 = new Uint8Array(f8.buffer);

  function varint() {
    let n = 0, mul = 1, b;
    do {
      b = bytes[at++];
      if (b === undefined) throw NOT_PLAIN;
      n += (b & 0x7f) * mul;
      mul *= 128;
    } while (b & 0x80);
    if (n >= 2 * ZIGZAG_SAFE) throw NOT_PLAIN;
    return n;
  }
  function f64() {
    if (at + 8 > bytes.length) throw NOT_PLAIN;
    for (let i = 0; i < 8; i++) u8[i] = bytes[at + i];
    at += 8;
    return f8[0];
  }
  function text() {
    const header = varint();
    if (header & 1) throw NOT_PLAIN;
    const len = header / 2, end = at + len;
    if (end > bytes.length) throw NOT_PLAIN;
    if (len < 24) {
      let s = "";
      for (let i = at; i < end; i++) {
        const c = bytes[i];
        if (c > 0x7f) { s = null; break; }
        s += String.fromCharCode(c);
      }
      if (s !== null) { at = end; return s; }
    }
    const s = fromUtf8.decode(bytes.subarray(at, end));
    at = end;
    return s;
  }
  function set(target, k, v) {
    if (k === "__proto__") {
      Object.defineProperty(target, k, { value: v, writable: true, enumerable: true, configurable: true });
    } else {
      target[k] = v;
    }
  }
  function zigzag(z) { return z % 2 === 0 ? z / 2 : -(z + 1) / 2; }
  function props(target, depth) {
    const n = varint();
    for (let i = 0; i < n; i++) {
      const form = bytes[at++];
      let k;
      if (form === codec.keyIndex) k = String(varint());
      else if (form === codec.keyText) k = text();
      else throw NOT_PLAIN;
      set(target, k, value(depth + 1));
    }
  }
  // Each tag the fast path reads, as a small number for a switch of literal cases (which
  // the engine turns into a jump table); 0 for every other tag.
  const KIND = new Uint8Array(256);
  ["undefined", "null", "false", "true", "int", "float", "string", "date", "array", "object",
    "blob", "file", "ref", "blobPart", "filePart"].forEach((name, i) => { KIND[T[name]] = i + 1; });
  function value(depth) {
    if (depth > codec.maxDepth) throw NOT_PLAIN;
    const tag = bytes[at++];
    switch (KIND[tag]) {
      case 1: return undefined;
      case 2: return null;
      case 3: return false;
      case 4: return true;
      case 5: return zigzag(varint());
      case 6: return f64();
      case 7: return text();
      case 8: { const d = new Date(f64()); objects.push(d); return d; }
      case 9: { const a = new Array(varint()); objects.push(a); props(a, depth); return a; }
      case 10: { const o = {}; objects.push(o); props(o, depth); return o; }
      case 11: case 12: {
        // The bytes were verified (type included) by Rust; a Blob copies them.
        const name = tag === T.file ? text() : null;
        const type = text();
        const lastModified = name !== null ? zigzag(varint()) : 0;
        const len = varint(), end = at + len;
        if (end > bytes.length) throw NOT_PLAIN;
        const part = bytes.subarray(at, end);
        at = end;
        const made = name === null
          ? new BlobOnce([part], { type })
          : new FileOnce([part], name, { type, lastModified });
        objects.push(made);
        return made;
      }
      case 13: {
        const id = varint();
        if (id >= objects.length) throw NOT_PLAIN;
        return objects[id];
      }
      case 14: case 15: {
        // Verified by Rust: the part is the next one, of this length; a Blob of it copies
        // nothing until IndexedDB stores it.
        const name = tag === T.filePart ? text() : null;
        const type = text();
        const lastModified = name !== null ? zigzag(varint()) : 0;
        const len = varint();
        if (parts === null || 2 * cursor + 1 >= parts.bounds.length) throw NOT_PLAIN;
        const start = parts.bounds[2 * cursor], end = parts.bounds[2 * cursor + 1];
        if (end - start !== len) throw NOT_PLAIN;
        cursor++;
        const made = name === null
          ? parts.region.slice(start, end, type)
          : new FileOnce([parts.region.slice(start, end)], name, { type, lastModified });
        objects.push(made);
        return made;
      }
      default: throw NOT_PLAIN;
    }
  }
  function top() { objects = []; return value(0); }

  const first = keys.length;
  while (keys.length - first < max && at < bytes.length) {
    const mark = at, partMark = cursor;
    try {
      const k = top();
      const v = top();
      keys.push(k);
      values.push(v);
    } catch (e) {
      at = mark;
      cursor = partMark;
      break;
    }
  }
  return [at, keys.length - first, cursor];
}
