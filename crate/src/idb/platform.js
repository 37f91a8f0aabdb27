// The platform objects IndexedDB stores, taken apart into plain parts and made again from
// them (for `clone.rs`).
//
// Constructors are looked up once, when the module loads: a page that replaces or deletes a
// global later does not change how its values are read. An object is one of these only when
// its prototype is exactly the interface's, and its parts are read through the interface's own
// getters, which throw for anything that merely pretends to be one.

const G = globalThis;
const KINDS = [
  "DOMMatrix", "DOMMatrixReadOnly", "DOMPoint", "DOMPointReadOnly", "DOMRect",
  "DOMRectReadOnly", "DOMQuad", "ImageData", "ImageBitmap", "FileList", "DOMException",
].map((name) => [name, typeof G[name] === "function" ? G[name] : null])
  .filter(([, ctor]) => ctor !== null);
const CTORS = new Map(KINDS);
const structuredCloneOnce = G.structuredClone;
const OffscreenCanvasOnce = G.OffscreenCanvas;
const createImageBitmapOnce = G.createImageBitmap;
const DataTransferOnce = G.DataTransfer;
const BlobOnce = typeof G.Blob === "function" ? G.Blob : null;
const FileOnce = typeof G.File === "function" ? G.File : null;

function ctor(name) {
  const c = CTORS.get(name);
  if (!c) throw new TypeError(`this browser has no ${name}`);
  return c;
}

/** The interface `v` is an instance of (exactly), or "" for none of these. */
export function rewind_platform_kind(v) {
  let proto;
  try { proto = Object.getPrototypeOf(v); } catch (e) { return ""; }
  for (const [name, c] of KINDS) if (proto === c.prototype) return name;
  return "";
}

/** "File", "Blob" or "" for anything else (a File is a Blob too: File first). */
export function rewind_blob_kind(v) {
  if (FileOnce !== null && v instanceof FileOnce) return "File";
  if (BlobOnce !== null && v instanceof BlobOnce) return "Blob";
  return "";
}
export function rewind_make_blob(bytes, type) {
  if (BlobOnce === null) throw new TypeError("this browser has no Blob");
  return new BlobOnce([bytes], { type });
}
/** A File of `content` (bytes, or a Blob the browser joins without reading it). */
export function rewind_make_file(content, name, type, lastModified) {
  if (FileOnce === null) throw new TypeError("this browser has no File");
  return new FileOnce([content], name, { type, lastModified });
}

export function rewind_blob_of_buffer(buffer, type) {
  if (BlobOnce === null) throw new TypeError("this browser has no Blob");
  return new BlobOnce([buffer], { type });
}
/** One Blob of `parts` (Uint8Arrays and Blobs), which the browser joins without copying
 * the Blobs. */
export function rewind_blob_of_parts(parts, type) {
  if (BlobOnce === null) throw new TypeError("this browser has no Blob");
  return new BlobOnce(parts, { type });
}
export function rewind_file_of_blob(blob, name) {
  if (FileOnce === null) throw new TypeError("this browser has no File");
  return new FileOnce([blob], name, { type: blob.type });
}

/** Whether `v` is a DOMException or an instance of one of its subclasses. */
export function rewind_is_dom_exception(v) {
  const C = CTORS.get("DOMException");
  return C !== undefined && v instanceof C;
}

export function rewind_point_coords(p) { return new Float64Array([p.x, p.y, p.z, p.w]); }
export function rewind_rect_coords(r) {
  return new Float64Array([r.x, r.y, r.width, r.height]);
}
export function rewind_quad_coords(q) {
  const out = new Float64Array(16);
  [q.p1, q.p2, q.p3, q.p4].forEach((p, i) => out.set([p.x, p.y, p.z, p.w], i * 4));
  return out;
}
/** a…f of a 2D matrix, m11…m44 of any other. */
export function rewind_matrix_elements(m) {
  return m.is2D ? new Float64Array([m.a, m.b, m.c, m.d, m.e, m.f]) : m.toFloat64Array();
}

export function rewind_make_point(readOnly, c) {
  const C = ctor(readOnly ? "DOMPointReadOnly" : "DOMPoint");
  return new C(c[0], c[1], c[2], c[3]);
}
export function rewind_make_rect(readOnly, c) {
  const C = ctor(readOnly ? "DOMRectReadOnly" : "DOMRect");
  return new C(c[0], c[1], c[2], c[3]);
}
export function rewind_make_quad(c) {
  const p = (i) => ({ x: c[i], y: c[i + 1], z: c[i + 2], w: c[i + 3] });
  return new (ctor("DOMQuad"))(p(0), p(4), p(8), p(12));
}
/** Six elements make a 2D matrix, sixteen a 3D one (even one that could be 2D). */
export function rewind_make_matrix(readOnly, elements) {
  return ctor(readOnly ? "DOMMatrixReadOnly" : "DOMMatrix").fromFloat64Array(elements);
}

/** [width, height, colorSpace, pixelFormat, the data's bytes]. */
export function rewind_image_data_parts(img) {
  const data = img.data;
  return [
    img.width, img.height, img.colorSpace ?? "srgb", img.pixelFormat ?? "rgba-unorm8",
    new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  ];
}
export function rewind_make_image_data(bytes, width, height, colorSpace, pixelFormat) {
  const C = ctor("ImageData");
  if (pixelFormat === "rgba-unorm8") {
    return new C(new Uint8ClampedArray(bytes), width, height, { colorSpace });
  }
  const data = new Float16Array(bytes.slice().buffer);
  return new C(data, width, height, { colorSpace, pixelFormat });
}

// ImageBitmaps have no bytes to read: they are drawn on a canvas and read back from it (all
// synchronous), and made again from those pixels by createImageBitmap (which is not: it is
// awaited before any transaction that must stay active).
let canvas = null, context = null;
export function rewind_bitmap_size(b) { return [b.width, b.height]; }
export function rewind_bitmap_pixels(bitmap) {
  const width = bitmap.width, height = bitmap.height;
  if (width === 0 || height === 0) throw new TypeError("the ImageBitmap is closed");
  if (canvas === null) {
    canvas = new OffscreenCanvasOnce(width, height);
    context = canvas.getContext("2d", { willReadFrequently: true, colorSpace: "srgb" });
  } else {
    canvas.width = width;
    canvas.height = height;
  }
  context.globalCompositeOperation = "copy";
  context.drawImage(bitmap, 0, 0);
  const data = context.getImageData(0, 0, width, height).data;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
export function rewind_make_bitmap(pixels, width, height) {
  const data = new (ctor("ImageData"))(new Uint8ClampedArray(pixels), width, height);
  return createImageBitmapOnce(data, { premultiplyAlpha: "none", colorSpaceConversion: "none" });
}

export function rewind_file_list_files(list) {
  const n = list.length, files = [];
  for (let i = 0; i < n; i++) files.push(list.item(i));
  return files;
}
export function rewind_make_file_list(files) {
  if (typeof DataTransferOnce !== "function") throw new TypeError("this browser has no DataTransfer");
  const transfer = new DataTransferOnce();
  for (const f of files) transfer.items.add(f);
  return transfer.files;
}

export function rewind_exception_parts(e) { return [e.name, e.message]; }
export function rewind_make_exception(message, name) {
  return new (ctor("DOMException"))(message, name);
}

/** Whether a view over a resizable buffer tracks the buffer's length. Nothing says so
 * directly; a copy (structured clone keeps the difference) is resized and looked at. */
export function rewind_view_tracks_length(view) {
  if (!view.buffer.resizable) return false;
  const copy = structuredCloneOnce(view);
  const buffer = copy.buffer, size = copy.BYTES_PER_ELEMENT ?? 1;
  const length = () => {
    try {
      if (!(copy instanceof DataView)) copy.at(0); // throws when out of bounds
      return copy.byteLength;
    } catch (e) {
      return -1;
    }
  };
  const before = length();
  if (buffer.byteLength + size <= buffer.maxByteLength) buffer.resize(buffer.byteLength + size);
  else if (buffer.byteLength - size >= copy.byteOffset) buffer.resize(buffer.byteLength - size);
  else return false; // an empty view at the very end of a full buffer: no size tells them apart
  const after = length();
  return after !== -1 && after !== before;
}
