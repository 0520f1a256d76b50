// .npy headers (fixed 128 bytes so the row count can be rewritten in place) and float32 -> float16 rounding.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { float16BitsToFloat32, float32ToFloat16Bits } from '../../src/embed/float16.js';
import { decodeNpyHeader, encodeNpyHeader, NPY_HEADER_BYTES } from '../../src/embed/npy.js';

test('float16 conversion matches IEEE 754 binary16 on known values', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff], // largest finite half
    [65519.99, 0x7bff], // rounds down to it
    [65520, 0x7c00], // ties to even: rounds up to infinity
    [1e9, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // exactly half of it: ties to even (zero)
    [1.5 * 2 ** -25, 0x0001],
    [2 ** -26, 0x0000],
    [0.1, 0x2e66],
    [1 / 3, 0x3555],
    [1 + 2 ** -11, 0x3c00], // halfway between 1 and the next half: ties to even (1)
    [1 + 3 * 2 ** -11, 0x3c02], // halfway between 0x3c01 and 0x3c02: to even (0x3c02)
  ];
  for (const [value, bits] of cases) {
    assert.equal(float32ToFloat16Bits(value), bits, `${value} -> 0x${bits.toString(16)}`);
  }
  const nan = float32ToFloat16Bits(NaN);
  assert.equal(nan & 0x7c00, 0x7c00);
  assert.notEqual(nan & 0x3ff, 0);
});

test('float16 round trip keeps every embedding-range value within half a unit in the last place', () => {
  let state = 12345;
  for (let i = 0; i < 20000; i++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const value = Math.fround((state / 2 ** 31 - 0.5) * 4);
    const back = float16BitsToFloat32(float32ToFloat16Bits(value));
    const magnitude = Math.max(Math.abs(value), 2 ** -14);
    const ulp = 2 ** (Math.floor(Math.log2(magnitude)) - 10);
    assert.ok(Math.abs(back - value) <= ulp / 2, `${value} -> ${back}`);
  }
  // Every finite half converts back to itself.
  for (let bits = 0; bits < 0x7c00; bits += 7) assert.equal(float32ToFloat16Bits(float16BitsToFloat32(bits)), bits);
});

test('npy header is 128 bytes, 64-byte aligned, and decodes to its dtype and shape', () => {
  for (const [dtype, rows, cols] of [
    ['float32', 0, 384],
    ['float16', 1_000_000, 1024],
    ['float32', 123_456_789_012, 4096],
  ] as const) {
    const header = encodeNpyHeader(dtype, rows, cols);
    assert.equal(header.length, NPY_HEADER_BYTES);
    assert.equal(header.length % 64, 0);
    assert.equal(header.subarray(0, 6).toString('latin1'), '\x93NUMPY');
    assert.equal(header[header.length - 1], 0x0a);
    assert.equal(header.readUInt16LE(8), NPY_HEADER_BYTES - 10);
    assert.deepEqual(decodeNpyHeader(header), { dtype, shape: [rows, cols], dataOffset: NPY_HEADER_BYTES });
    assert.match(header.toString('latin1', 10), dtype === 'float32' ? /'descr': '<f4'/ : /'descr': '<f2'/);
  }
});

test('npy header decoding rejects what it cannot read', () => {
  assert.throws(() => decodeNpyHeader(Buffer.from('not numpy at all')), /bad magic/);
  const fortran = encodeNpyHeader('float32', 2, 2);
  fortran.write("'fortran_order': True, ", fortran.indexOf("'fortran_order'"), 'latin1');
  assert.throws(() => decodeNpyHeader(fortran), /Fortran/);
});
