// The values of the value-model fidelity test (`fidelity.rs`).

/** One record holding every kind of value structured clone supports. */
export function every_kind_of_value() {
  const buf = new ArrayBuffer(32);
  const bytes = new Uint8Array(buf);
  for (let i = 0; i < 32; i++) bytes[i] = (i * 37) & 255;
  const shared = { s: 1 };
  const cyc = { name: 'cyc' };
  cyc.self = cyc;
  const sparse = [1, , 3];
  sparse[10] = 'ten';
  sparse.extra = 'x';
  const protoKey = JSON.parse('{"a": 1, "__proto__": {"b": 2}, "c": 3}');
  const nullProto = Object.create(null);
  nullProto.x = 1;
  nullProto.y = { z: 2 };
  const err = new RangeError('boom');
  const typeErr = new TypeError('bad type');
  const plainErr = new Error();
  const causeErr = new Error('with cause', { cause: shared });
  const custom = new Error('custom');
  custom.name = 'MyError';
  const rec = {
    und: undefined, nul: null, t: true, f: false,
    negz: -0, nan: NaN, inf: Infinity, ninf: -Infinity, num: 1.5, int: 42, tiny: 5e-324,
    big: -123456789012345678901234567890n, bigZero: 0n,
    str: 'héllo ✓ 😀', empty: '', lone: 'a\uD800b\uDC00', loneEnd: '\uDBFF',
    date: new Date(1700000000123), badDate: new Date(NaN),
    re: /a+(b)?\//giu, re2: new RegExp('', 'y'),
    bs: new String('boxed'), bn: new Number(-0), bnan: new Number(NaN), bb: new Boolean(false),
    bbig: Object(7n),
    err, typeErr, plainErr, causeErr, custom,
    buf,
    u8: new Uint8Array(buf, 1, 5), i8: new Int8Array(buf, 3), clamped: new Uint8ClampedArray(buf),
    i16: new Int16Array(buf, 2, 3), u16: new Uint16Array(buf, 0, 4),
    i32: new Int32Array(buf, 8), u32: new Uint32Array(buf, 12, 1),
    f32: new Float32Array(buf, 4, 2), f64: new Float64Array(buf, 8, 2),
    i64: new BigInt64Array(buf, 16, 1), u64: new BigUint64Array(buf, 24, 1),
    dv: new DataView(buf, 5, 9), dvAll: new DataView(buf),
    own: new Float64Array([1.5, -0, NaN]), emptyView: new Uint8Array(0),
    f16: typeof Float16Array === 'function' ? new Float16Array([1.5, -2]) : null,
    map: new Map([[1, 'one'], [shared, cyc], ['buf', buf], [NaN, -0]]),
    set: new Set([NaN, 0, shared, 'x', buf]),
    sparse, holes: new Array(5), protoKey, nullProto, shared, shared2: shared, cyc,
    blob: new Blob([new Uint8Array([1, 2, 3, 0, 255])], { type: 'application/x-test' }),
    file: new File(['hello ✓'], 'a ✓.txt', { type: 'text/plain', lastModified: 1600000000123 }),
    emptyBlob: new Blob([]),
    nested: { deep: { deeper: [shared, [cyc, buf]] } },
    'key with spaces': 1, '0': 'zero', '': 'empty key',
  };
  rec.self = rec;
  rec.map.set(rec, rec.set);
  return rec;
}

// One change a case each, to a copy of `every_kind_of_value()`'s record: the comparator must
// name the property changed.
const changes = {
  u8: (r) => { r.u8 = new Uint8Array(r.buf.slice(0), 1, 5); },
  lone: (r) => { r.lone = 'a\uFFFDb\uFFFD'; },
  blob: (r) => { r.blob = new Blob([new Uint8Array([1, 2, 3, 0, 254])], { type: 'application/x-test' }); },
  file: (r) => { r.file = new File(['hello ✓'], 'a ✓.txt', { type: 'text/plain', lastModified: 1 }); },
  self: (r) => { r.self = { ...r }; },
};

/** `record` with the change named `label` made to it. */
export function changed(label, record) {
  changes[label](record);
  return record;
}

/** A key of every type and form IndexedDB takes. */
export function every_kind_of_key() {
  return [
    -Infinity, -1.5, -0, 0.5, 7, Infinity, 2 ** 53 + 2,
    '', 'a', 'a\uD800', 'zzz ✓',
    new Date(0), new Date(1700000000123), new Date(-5e11),
    new Uint8Array([]).buffer, new Uint8Array([1, 2, 3]), new Int16Array([-1, 2]).buffer,
    new DataView(new Uint8Array([9, 8, 7]).buffer, 1),
    [], [1, 'a', new Date(5), new Uint8Array([4]).buffer, [2, ['x']]],
  ];
}

// Values a backup cannot carry, by name.
const unsupported = {
  "a function in an object": () => ({ a: { f: function () {} } }),
  "a Symbol in an array": () => ({ list: [1, Symbol('x')] }),
  "a WeakMap": () => ({ w: new WeakMap() }),
  "a function as a Map value": () => new Map([['k', () => 1]]),
};

/** The value a backup cannot carry named `name`. */
export function unsupported_value(name) {
  return unsupported[name]();
}

/** The same Blob twice, then a File. */
export function a_blob_twice_and_a_file() {
  const b = new Blob(['abc'], { type: 'text/plain' });
  return [b, b, new File([new Uint8Array([7])], 'f')];
}
