// The values of the browser fidelity tests (`platform_fidelity.rs`), the comparator that
// decides whether two values are the same (also for `fidelity.rs`: deep equality cannot see
// into these types), the probes of what this engine does, and the records of the fast path's
// tests (`fastpath_equivalence.rs`).

/** Every case: [category, name, value]. Each value is put alone as one record. */
export async function fidelity_cases() {
  const cases = [];
  const add = (category, name, value) => cases.push([category, name, value]);

  // Resizable buffers and the views over them.
  const rab = (bytes, max) => {
    const b = new ArrayBuffer(bytes.length, { maxByteLength: max });
    new Uint8Array(b).set(bytes);
    return b;
  };
  add("resizable", "resizable ArrayBuffer", rab([1, 2, 3, 4, 5, 6, 7, 8], 64));
  add("resizable", "resizable ArrayBuffer at its maximum", rab([9, 8, 7], 3));
  add("resizable", "empty resizable ArrayBuffer", rab([], 16));
  add("resizable", "length-tracking Uint8Array", new Uint8Array(rab([1, 2, 3], 10)));
  add("resizable", "length-tracking Float64Array at an offset",
    new Float64Array(rab(new Array(24).fill(1), 64), 8));
  add("resizable", "length-tracking DataView at an offset", new DataView(rab([1, 2, 3, 4, 5], 9), 2));
  add("resizable", "length-tracking BigInt64Array over a full buffer",
    new BigInt64Array(rab(new Array(16).fill(3), 16)));
  add("resizable", "fixed-length Uint16Array over a resizable buffer",
    new Uint16Array(rab([1, 0, 2, 0, 3, 0, 4, 0], 32), 2, 2));
  add("resizable", "fixed-length DataView over a resizable buffer",
    new DataView(rab([5, 6, 7, 8], 8), 1, 2));
  {
    const b = rab([1, 2, 3, 4, 5, 6, 7, 8], 24);
    add("resizable", "one resizable buffer under a tracking and a fixed view",
      { b, tracking: new Int16Array(b, 2), fixed: new Uint8Array(b, 0, 4), again: b });
  }
  add("resizable", "fixed buffer still fixed", new Uint8Array([1, 2, 3]).buffer);

  // DOM geometry.
  add("geometry", "DOMPoint", new DOMPoint(1.5, -0, NaN, Infinity));
  add("geometry", "DOMPointReadOnly", new DOMPointReadOnly(-1, 2, 3, 0.25));
  add("geometry", "DOMRect", new DOMRect(1, 2, -3, 4.5));
  add("geometry", "DOMRectReadOnly", new DOMRectReadOnly(0.1, 0.2, 0.3, 0.4));
  add("geometry", "DOMQuad of points",
    new DOMQuad({ x: 0, y: 0 }, { x: 1, y: 0, z: 2 }, { x: 1, y: 1, w: 3 }, { x: 0, y: 1 }));
  add("geometry", "DOMQuad from a rect", DOMQuad.fromRect({ x: 5, y: 6, width: 7, height: 8 }));
  add("geometry", "2D DOMMatrix", new DOMMatrix([1, 0.5, -0.5, 1, 10, -20]));
  add("geometry", "3D DOMMatrix",
    new DOMMatrix([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]));
  add("geometry", "3D DOMMatrix with 2D values",
    new DOMMatrix([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]));
  add("geometry", "2D DOMMatrixReadOnly", new DOMMatrixReadOnly([2, 0, 0, 2, -0, 0]));
  add("geometry", "3D DOMMatrixReadOnly", new DOMMatrixReadOnly().rotate(30, 40, 50));
  add("geometry", "identity DOMMatrix", new DOMMatrix());

  // Images.
  const pixels = (w, h, alpha) => {
    const d = new Uint8ClampedArray(w * h * 4);
    for (let i = 0; i < d.length; i++) d[i] = (i * 37 + 11) & 255;
    for (let i = 3; i < d.length; i += 4) d[i] = alpha === undefined ? (i * 13) & 255 : alpha;
    return d;
  };
  add("image", "ImageData", new ImageData(pixels(3, 2), 3, 2));
  add("image", "ImageData in display-p3",
    new ImageData(pixels(2, 2), 2, 2, { colorSpace: "display-p3" }));
  add("image", "ImageData 1×1 transparent", new ImageData(1, 1));
  if ("pixelFormat" in ImageData.prototype && typeof Float16Array === "function") {
    const f = new Float16Array([0.5, 1, -0, 1, 0.25, 0.125, 2, 0.5]);
    add("image", "ImageData rgba-float16", new ImageData(f, 2, 1, { pixelFormat: "rgba-float16" }));
  }
  add("image", "opaque ImageBitmap",
    await createImageBitmap(new ImageData(pixels(4, 3, 255), 4, 3)));
  add("image", "ImageBitmap with alpha",
    await createImageBitmap(new ImageData(pixels(3, 3), 3, 3)));
  add("image", "ImageBitmap from a canvas", await (async () => {
    const c = new OffscreenCanvas(5, 4);
    const g = c.getContext("2d");
    g.fillStyle = "rgb(200, 30, 60)";
    g.fillRect(0, 0, 5, 4);
    g.fillStyle = "rgb(10, 220, 90)";
    g.fillRect(1, 1, 2, 2);
    return createImageBitmap(c);
  })());

  // FileList.
  const files = (...list) => {
    const t = new DataTransfer();
    for (const f of list) t.items.add(f);
    return t.files;
  };
  add("filelist", "FileList of two files", files(
    new File(["hello ✓"], "a ✓.txt", { type: "text/plain", lastModified: 1600000000123 }),
    new File([new Uint8Array([0, 1, 2, 255])], "b.bin", { lastModified: 5 })));
  add("filelist", "empty FileList", files());

  // DOMException.
  add("exception", "DOMException", new DOMException("not here", "NotFoundError"));
  add("exception", "DOMException of a custom name", new DOMException("odd ✓", "MyOwnName"));
  add("exception", "DOMException without arguments", new DOMException());

  // Mixed: sharing, and platform objects inside containers.
  {
    const p = new DOMPoint(1, 2);
    const list = files(new File(["x"], "x.txt"));
    const b = rab([1, 2, 3, 4], 8);
    add("mixed", "shared platform objects",
      { p, again: p, list, list2: list, m: new DOMMatrix([1, 2, 3, 4, 5, 6]), b, v: new Uint8Array(b) });
    add("mixed", "platform objects in Map, Set and Array",
      [new Map([[p, new DOMRect(1, 1, 1, 1)]]), new Set([p, new DOMException("e")]), [, p]]);
  }
  return cases;
}

/** Values Chromium's IndexedDB stores but a backup refuses by design: [name, value, the type
 * the error names]. */
export async function refused_cases() {
  const out = [];
  const aes = { name: "AES-GCM", length: 128 };
  out.push(["non-extractable CryptoKey",
    await crypto.subtle.generateKey(aes, false, ["encrypt"]), "CryptoKey"]);
  out.push(["extractable CryptoKey",
    await crypto.subtle.generateKey(aes, true, ["encrypt"]), "CryptoKey"]);
  if (typeof RTCPeerConnection === "function") {
    out.push(["RTCCertificate", await RTCPeerConnection.generateCertificate(
      { name: "ECDSA", namedCurve: "P-256" }), "RTCCertificate"]);
  }
  if (navigator.storage && navigator.storage.getDirectory) {
    const root = await navigator.storage.getDirectory();
    out.push(["FileSystemDirectoryHandle", root, "FileSystemDirectoryHandle"]);
    out.push(["FileSystemFileHandle",
      await root.getFileHandle("rewind-fidelity.txt", { create: true }), "FileSystemFileHandle"]);
  }
  // DOMException's subclasses: a DOMException in their place would lose their class.
  if (typeof QuotaExceededError === "function") {
    out.push(["QuotaExceededError", new QuotaExceededError("full", { quota: 10, requested: 20 }),
      "QuotaExceededError"]);
  }
  return out;
}

/** What Chromium's IndexedDB itself does with the serializable objects it refuses for
 * storage, put into `store` of the open database `db`: [name, the error's name, or "stored"]. */
export async function storage_refusals(db, store) {
  const store_put = (v) => new Promise((ok, fail) => {
    const tx = db.transaction(store, "readwrite");
    tx.oncomplete = ok;
    tx.onerror = () => fail(tx.error);
    try {
      tx.objectStore(store).put(v, "probe");
    } catch (e) {
      tx.abort();
      fail(e);
    }
  });
  const tries = [];
  const canvas = new OffscreenCanvas(2, 2);
  canvas.getContext("2d").fillRect(0, 0, 1, 1);
  if (typeof VideoFrame === "function") {
    tries.push(["VideoFrame", () => new VideoFrame(canvas, { timestamp: 0 })]);
  }
  if (typeof AudioData === "function") {
    tries.push(["AudioData", () => new AudioData({ format: "f32", sampleRate: 8000,
      numberOfFrames: 1, numberOfChannels: 1, timestamp: 0, data: new Float32Array(1) })]);
  }
  if (typeof EncodedVideoChunk === "function") {
    tries.push(["EncodedVideoChunk",
      () => new EncodedVideoChunk({ type: "key", timestamp: 0, data: new Uint8Array(1) })]);
  }
  tries.push(["WebAssembly.Module",
    () => new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))]);
  tries.push(["MessagePort", () => new MessageChannel().port1]);
  tries.push(["ReadableStream", () => new ReadableStream()]);
  tries.push(["OffscreenCanvas", () => new OffscreenCanvas(1, 1)]);
  if (typeof CropTarget === "function" && CropTarget.fromElement && typeof document === "object") {
    tries.push(["CropTarget", () => CropTarget.fromElement(document.body)]);
  }
  if (typeof RestrictionTarget === "function" && RestrictionTarget.fromElement
    && typeof document === "object") {
    tries.push(["RestrictionTarget", () => RestrictionTarget.fromElement(document.body)]);
  }
  if (typeof WebTransportError === "function") {
    tries.push(["WebTransportError", () => new WebTransportError({ message: "closed" })]);
  }
  tries.push(["closed ImageBitmap", async () => {
    const b = await createImageBitmap(new ImageData(1, 1));
    b.close();
    return b;
  }]);
  const out = [];
  for (const [name, make] of tries) {
    let value;
    try {
      value = await make();
    } catch (e) {
      out.push([name, "unavailable"]);
      continue;
    }
    try {
      await store_put(value);
      out.push([name, "stored"]);
    } catch (e) {
      out.push([name, e && e.name ? e.name : String(e)]);
    }
  }
  return out;
}

/** Whether a view follows its buffer's length, seen by resizing the buffer (which changes
 * it: only for values nobody else uses). -1 when the view is out of bounds. */
function viewLength(v) {
  try {
    if (!(v instanceof DataView)) v.at(0);
    return v.byteLength;
  } catch (e) {
    return -1;
  }
}

// The bytes of the Blobs and Files of a reference value, read while they still could be: in
// Firefox a File read from IndexedDB cannot be read once its record is deleted (a restore
// deletes it), so the comparison takes the bytes read before (keep_blob_bytes).
const keptBytes = new WeakMap();

/** Reads now the bytes of every Blob and File in `value` (also in FileLists, arrays, objects,
 * Maps and Sets), for compare() to use instead of reading them later. */
export async function keep_blob_bytes(value, seen = new Set()) {
  if (typeof value !== "object" || value === null || seen.has(value)) return;
  seen.add(value);
  if (value instanceof Blob) {
    keptBytes.set(value, new Uint8Array(await value.arrayBuffer()));
  } else if (value instanceof FileList) {
    for (const f of value) await keep_blob_bytes(f, seen);
  } else if (value instanceof Map || value instanceof Set) {
    for (const e of value.entries()) for (const v of e) await keep_blob_bytes(v, seen);
  } else if (!ArrayBuffer.isView(value) && !(value instanceof ArrayBuffer)) {
    for (const k of Object.keys(value)) await keep_blob_bytes(value[k], seen);
  }
}

const blobBytes = async (blob) => keptBytes.get(blob) ?? new Uint8Array(await blob.arrayBuffer());

/** "" when `a` and `b` are the same value, else where and how they differ: types,
 * prototypes, -0 and NaN, property order and descriptors, sharing and cycles (a one-to-one
 * correspondence of objects), Blob and File contents and metadata. Platform objects are
 * compared by what defines them; views over resizable buffers also by how their lengths
 * follow a resize (so the values are changed: pass fresh copies). */
export async function compare(a, b) {
  const pairs = new Map(), taken = new Set(), later = [], buffers = [];
  const tag = (v) => Object.prototype.toString.call(v);
  const show = (v) => typeof v === "bigint" ? v + "n" : Object.is(v, -0) ? "-0" : String(v);
  const same = (x, y, path) => Object.is(x, y) ? "" : `${path}: ${show(x)} vs ${show(y)}`;
  const fields = (x, y, names, path) => {
    for (const n of names) {
      const d = same(x[n], y[n], `${path}.${n}`);
      if (d) return d;
    }
    return "";
  };
  function cmp(x, y, path) {
    if (typeof x !== typeof y) return `${path}: typeof ${typeof x} vs ${typeof y}`;
    if (typeof x !== "object" || x === null || y === null) return same(x, y, path);
    if (pairs.has(x)) return pairs.get(x) === y ? "" : `${path}: sharing differs`;
    if (taken.has(y)) return `${path}: the copy shares an object the original does not`;
    pairs.set(x, y);
    taken.add(y);
    if (tag(x) !== tag(y)) return `${path}: ${tag(x)} vs ${tag(y)}`;
    if (Object.getPrototypeOf(x) !== Object.getPrototypeOf(y)) return `${path}: prototypes differ`;
    let d = "";
    if (x instanceof Date) {
      if ((d = same(x.getTime(), y.getTime(), `${path} (date)`))) return d;
    } else if (x instanceof RegExp) {
      if ((d = fields(x, y, ["source", "flags"], path))) return d;
    } else if (x instanceof Number || x instanceof String || x instanceof Boolean || x instanceof BigInt) {
      if ((d = same(x.valueOf(), y.valueOf(), `${path} (boxed)`))) return d;
    } else if (x instanceof ArrayBuffer) {
      if ((d = fields(x, y, ["resizable", "maxByteLength", "byteLength"], path))) return d;
      const p = new Uint8Array(x), q = new Uint8Array(y);
      for (let i = 0; i < p.length; i++) if (p[i] !== q[i]) return `${path}[${i}]: ${p[i]} vs ${q[i]}`;
      if (x.resizable) buffers.push([x, y, path]);
    } else if (ArrayBuffer.isView(x)) {
      if ((d = fields(x, y, ["byteOffset", "byteLength"], path))) return d;
      if ((d = cmp(x.buffer, y.buffer, path + ".buffer"))) return d;
      later.push([x, y, path]);
    } else if (x instanceof DOMPointReadOnly) {
      if ((d = fields(x, y, ["x", "y", "z", "w"], path))) return d;
    } else if (x instanceof DOMRectReadOnly) {
      if ((d = fields(x, y, ["x", "y", "width", "height"], path))) return d;
    } else if (x instanceof DOMQuad) {
      for (const p of ["p1", "p2", "p3", "p4"]) {
        if ((d = fields(x[p], y[p], ["x", "y", "z", "w"], `${path}.${p}`))) return d;
      }
    } else if (x instanceof DOMMatrixReadOnly) {
      if ((d = same(x.is2D, y.is2D, path + ".is2D"))) return d;
      const p = x.toFloat64Array(), q = y.toFloat64Array();
      for (let i = 0; i < 16; i++) if ((d = same(p[i], q[i], `${path}[m${i}]`))) return d;
    } else if (x instanceof ImageData) {
      if ((d = fields(x, y, ["width", "height", "colorSpace", "pixelFormat"], path))) return d;
      if ((d = cmp(x.data, y.data, path + ".data"))) return d;
    } else if (x instanceof ImageBitmap) {
      if ((d = fields(x, y, ["width", "height"], path))) return d;
      const read = (bitmap) => {
        const c = new OffscreenCanvas(bitmap.width, bitmap.height);
        const g = c.getContext("2d");
        g.drawImage(bitmap, 0, 0);
        return g.getImageData(0, 0, bitmap.width, bitmap.height).data;
      };
      const p = read(x), q = read(y);
      for (let i = 0; i < p.length; i++) if (p[i] !== q[i]) return `${path} pixel byte ${i}: ${p[i]} vs ${q[i]}`;
    } else if (x instanceof FileList) {
      if ((d = same(x.length, y.length, path + ".length"))) return d;
      for (let i = 0; i < x.length; i++) later.push([x[i], y[i], `${path}[${i}]`]);
    } else if (x instanceof DOMException) {
      if ((d = fields(x, y, ["name", "message", "code"], path))) return d;
    } else if (x instanceof Error) {
      if ((d = fields(x, y, ["name", "message", "stack"], path))) return d;
    } else if (x instanceof Blob) {
      if ((d = fields(x, y, ["type", "size", "name", "lastModified"], path))) return d;
      later.push([x, y, path]);
    } else if (x instanceof Map || x instanceof Set) {
      if (x.size !== y.size) return `${path}: size ${x.size} vs ${y.size}`;
      const p = [...x.entries()], q = [...y.entries()];
      for (let i = 0; i < p.length; i++) {
        if ((d = cmp(p[i][0], q[i][0], `${path}<key ${i}>`))) return d;
        if ((d = cmp(p[i][1], q[i][1], `${path}<value ${i}>`))) return d;
      }
    }
    const ka = Reflect.ownKeys(x), kb = Reflect.ownKeys(y);
    // An Error's own properties (message, stack, cause) come back from a clone in an order
    // of the engine's choosing.
    if (x instanceof Error && !(x instanceof DOMException)) {
      ka.sort();
      kb.sort();
    }
    const names = (keys) => keys.map(String).join();
    if (names(ka) !== names(kb)) return `${path}: keys [${names(ka)}] vs [${names(kb)}]`;
    if (Array.isArray(x) && x.length !== y.length) return `${path}: length ${x.length} vs ${y.length}`;
    for (const k of ka) {
      const da = Object.getOwnPropertyDescriptor(x, k), db = Object.getOwnPropertyDescriptor(y, k);
      if (da.enumerable !== db.enumerable) return `${path}.${String(k)}: enumerable differs`;
      if ("value" in da && (d = cmp(da.value, db.value, `${path}.${String(k)}`))) return d;
    }
    return "";
  }
  let d = cmp(a, b, "$");
  if (d) return d;
  for (const [x, y, path] of later) {
    if (x instanceof Blob) {
      const p = await blobBytes(x), q = await blobBytes(y);
      if (p.length !== q.length || p.some((v, i) => v !== q[i])) return `${path}: bytes differ`;
    }
  }
  // Length tracking: every view over each resizable buffer, at the largest and smallest sizes.
  for (const [x, y, path] of buffers) {
    const views = later.filter(([v]) => ArrayBuffer.isView(v) && v.buffer === x);
    for (const size of [x.maxByteLength, 0]) {
      x.resize(size);
      y.resize(size);
      for (const [v, w, vpath] of views) {
        if ((d = same(viewLength(v), viewLength(w), `${vpath} (${path} resized to ${size})`))) return d;
      }
    }
  }
  return "";
}

/** A deterministic stream of plain records for the fast path's property test: [keys, values].
 * Numbers (-0, NaN, the edges of the integer forms), strings (non-ASCII, long, some with lone
 * surrogates), Dates (some invalid), arrays with holes and extra properties, nested objects,
 * names that look like indexes, `__proto__` as an own key, shared objects and cycles. */
export function generated_records(seed, count) {
  let s = seed >>> 0;
  const next = () => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const below = (n) => Math.floor(next() * n);
  const pick = (xs) => xs[below(xs.length)];
  const numbers = [0, -0, NaN, Infinity, -Infinity, 1, -1, 0.5, 1e-300, 5e-324, 1e300,
    2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 52, -(2 ** 52), 2 ** 52 + 1, 2 ** 53, -(2 ** 53),
    2 ** 53 + 2, 2 ** 64, 123456789012345, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE,
    Number.MAX_VALUE, 0.1 + 0.2];
  const number = () => below(3) === 0 ? pick(numbers)
    : below(2) === 0 ? below(1 << 30) - (1 << 29) : (next() - 0.5) * 10 ** below(20);
  const alphabet = ["a", "Z", "0", " ", "é", "ß", "東", "京", "😀", "\u0000", "\u007f", "\u0080",
    "\u07ff", "\u0800", "\uffff", "\uD83D\uDE00"];
  const string = () => {
    const kind = below(10);
    if (kind === 0) return "";
    if (kind === 1) return pick(alphabet).repeat(40 + below(100)); // long
    if (kind === 2 && below(4) === 0) return "x\uD800" + pick(alphabet); // lone surrogate
    let out = "";
    for (let i = below(12); i > 0; i--) out += pick(alphabet);
    return out;
  };
  const names = ["id", "0", "1", "01", "10", "4294967294", "4294967295", "-0", "-1", "1e3",
    " 1", "1.5", "NaN", "__proto__", "length", "constructor", "é", "東京", "", "a b"];
  const key = () => below(3) === 0 ? pick(names) : string();
  const put = (o, k, v) => Object.defineProperty(o, k,
    { value: v, writable: true, enumerable: true, configurable: true });
  const value = (depth, shared) => {
    const k = below(depth > 3 ? 5 : 10);
    switch (k) {
      case 0: return number();
      case 1: return string();
      case 2: return pick([true, false, null, undefined]);
      case 3: return new Date(below(5) === 0 ? NaN : Math.round((next() - 0.3) * 4e12));
      case 4: return number();
      case 5: case 6: {
        const o = below(8) === 0 ? Object.create(null) : {};
        for (let i = below(6); i > 0; i--) put(o, key(), value(depth + 1, shared));
        if (shared.length && below(6) === 0) put(o, "shared", pick(shared));
        if (below(10) === 0) put(o, "cycle", o);
        shared.push(o);
        return o;
      }
      case 7: case 8: {
        const a = new Array(below(8));
        for (let i = 0; i < a.length; i++) if (below(4) !== 0) a[i] = value(depth + 1, shared);
        if (below(5) === 0) a[below(4) + a.length] = value(depth + 1, shared); // a hole before it
        if (below(6) === 0) put(a, pick(["extra", "01", "4294967295", "-1"]), value(depth + 1, shared));
        shared.push(a);
        return a;
      }
      default: return shared.length ? pick(shared) : string();
    }
  };
  const keys = [], values = [];
  for (let i = 0; i < count; i++) {
    keys.push(pick([() => number(), () => string(), () => i])());
    const shared = [];
    const record = {};
    for (let j = 1 + below(6); j > 0; j--) put(record, key(), value(1, shared));
    values.push(record);
  }
  for (let i = 0; i < keys.length; i++) if (Number.isNaN(keys[i])) keys[i] = i;
  return [keys, values];
}

/** 400 plain records of the fast path's first test, [keys, values]: numbers at the edges of
 * their forms, non-ASCII and index-like names, holes, extra array properties, shared objects,
 * prototype-less objects, cycles. */
export function plain_records() {
  const out = [];
  const keys = [];
  const words = ["a", "café", "東京", "x".repeat(70), "ü".repeat(50), "", "0", "01", "4294967294", "4294967295", "12", "__proto__", "😀"];
  for (let i = 0; i < 400; i++) {
    const shared = { s: i };
    const o = { id: i, t: words[i % words.length], n: [0, -0, 1.5, -7, 2**31, 2**52, -(2**52), 2**53, NaN, Infinity, -Infinity, 1e300, 123456789012, -1][i % 14],
      d: new Date(1700000000000 + i), bad: new Date(NaN), nested: { a: [1, , 3, shared, shared], b: null, u: undefined, t: true, f: false },
      arr: Object.assign([1, 2], { extra: "x" }), proto: Object.create(null) };
    o.proto.k = words[(i + 3) % words.length];
    o[words[i % words.length]] = i;
    if (i % 7 === 0) o.self = o;
    const wk = words[i % words.length];
    o[wk] = wk;
    out.push(o);
    keys.push(i % 3 === 0 ? i * 1.5 : i % 3 === 1 ? "k" + i : -i);
  }
  return [keys, out];
}

/** 60 records holding Blobs and Files (the same Blob twice in each, some Files dated before
 * 1970), every tenth also a Map, the fast path's limit: [keys, values]. */
export function records_with_blobs() {
  const values = [];
  const keys = [];
  for (let i = 0; i < 60; i++) {
    const blob = new Blob([new Uint8Array([i, 1, 2, 255])], { type: i % 3 ? "image/png" : "" });
    const file = new File([`file ${i} ✓`], ["notes.txt", "東京.md", "", "x"][i % 4], { type: "text/plain", lastModified: 1700000000000 + i * 1000 });
    const v = { id: i, photo: blob, attachments: [file, blob], empty: new Blob([]), note: "n" + i };
    if (i % 5 === 0) v.old = new File(["old"], "before 1970", { lastModified: -86400000 });
    if (i % 10 === 0) v.tags = new Map([["blob", blob]]); // a Map: the fast path's limit
    values.push(v);
    keys.push(i);
  }
  return [keys, values];
}

/** Whether this is Chromium, whose IndexedDB stores every case. */
export function is_chromium() {
  return navigator.userAgent.includes("Chrome/");
}

/** Whether this engine's IndexedDB garbles a DOMException's non-ASCII message when it writes
 * one (probed in a database of its own, deleted afterwards). */
export async function garbles_exception_messages() {
  const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
  const open = indexedDB.open("probe-exception-message", 1);
  open.onupgradeneeded = () => open.result.createObjectStore("s");
  const db = await req(open);
  const tx = db.transaction("s", "readwrite");
  tx.objectStore("s").put(new DOMException("✓", "Probe"), 1);
  await new Promise((ok) => { tx.oncomplete = ok; });
  const back = await req(db.transaction("s").objectStore("s").get(1));
  db.close();
  await req(indexedDB.deleteDatabase("probe-exception-message"));
  return back.message !== "✓";
}

// Pairs of values that differ in one defining property, by what the comparator must name.
const pairs = {
  "resizable": () => [new ArrayBuffer(4, { maxByteLength: 8 }), new ArrayBuffer(4)],
  "maxByteLength": () =>
    [new ArrayBuffer(4, { maxByteLength: 8 }), new ArrayBuffer(4, { maxByteLength: 9 })],
  "resized to 8": () => [new Uint8Array(new ArrayBuffer(4, { maxByteLength: 8 })),
    new Uint8Array(new ArrayBuffer(4, { maxByteLength: 8 }), 0, 4)],
  ".w": () => [new DOMPoint(1, 2, 3, 4), new DOMPoint(1, 2, 3, 5)],
  "DOMPointReadOnly": () => [new DOMPoint(1, 2), new DOMPointReadOnly(1, 2)],
  ".height": () => [new DOMRect(1, 2, 3, 4), new DOMRect(1, 2, 3, -4)],
  ".p3.z": () => [new DOMQuad({}, {}, { z: 1 }, {}), new DOMQuad({}, {}, { z: 2 }, {})],
  "is2D": () => [new DOMMatrix([1, 0, 0, 1, 0, 0]),
    new DOMMatrix([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])],
  "colorSpace": () => [new ImageData(1, 1), new ImageData(1, 1, { colorSpace: "display-p3" })],
  ".data": () => [new ImageData(new Uint8ClampedArray([1, 2, 3, 4]), 1),
    new ImageData(new Uint8ClampedArray([1, 2, 3, 5]), 1)],
  "pixel byte 1": async () => [
    await createImageBitmap(new ImageData(new Uint8ClampedArray([1, 2, 3, 255]), 1)),
    await createImageBitmap(new ImageData(new Uint8ClampedArray([1, 9, 3, 255]), 1))],
  "[0]: bytes differ": () => {
    const list = (bytes) => {
      const t = new DataTransfer();
      t.items.add(new File([bytes], "f", { lastModified: 1 }));
      return t.files;
    };
    return [list("a"), list("b")];
  },
  ".name": () => [new DOMException("m", "A"), new DOMException("m", "B")],
};

/** The pair of values that differ only in what `what` names: [a, b]. */
export async function pair_differing_in(what) {
  return pairs[what]();
}

// What the walker must refuse, by name: look-alikes of platform objects, and objects it
// cannot read or carry.
const walker_refusals = {
  "a DOMPoint look-alike": () => ({ p: Object.create(DOMPoint.prototype) }),
  "an ImageData look-alike": () => [Object.create(ImageData.prototype)],
  "a closed ImageBitmap": async () => {
    const b = await createImageBitmap(new ImageData(1, 1));
    b.close();
    return { b };
  },
  "a QuotaExceededError": () => ({ e: new QuotaExceededError("full") }),
  "a CryptoKey": async () =>
    ({ k: await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]) }),
};

/** The value named `name` of those the walker refuses. */
export async function refused_by_walker(name) {
  return walker_refusals[name]();
}
