import { test } from 'node:test';
import assert from 'node:assert/strict';

import { encodeBase64, packBinary, packUbinary, quantizeInt8, quantizeUint8 } from '../../src/server/encoding.js';

test('base64 float32 little-endian by default; big-endian swaps each value', () => {
  const row = Float32Array.of(1, -2.5);
  const le = Buffer.from(encodeBase64(row), 'base64');
  assert.deepEqual([...le], [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0]);
  const be = Buffer.from(encodeBase64(row, 'float32', 'big'), 'base64');
  assert.deepEqual([...be], [0x3f, 0x80, 0x00, 0x00, 0xc0, 0x20, 0x00, 0x00]);
  assert.deepEqual([...Buffer.from(encodeBase64(row, 'float32', 'native'), 'base64')], [...le]); // x86 and arm64 are little-endian
});

test('float16 and bfloat16 round to nearest even', () => {
  // 1 + 2^-11 is exactly between float16 1.0 and 1 + 2^-10: ties to even -> 1.0 (0x3c00).
  const half = Buffer.from(encodeBase64(Float32Array.of(1 + 2 ** -11, 65504, -0.5), 'float16'), 'base64');
  assert.deepEqual([half.readUInt16LE(0), half.readUInt16LE(2), half.readUInt16LE(4)], [0x3c00, 0x7bff, 0xb800]);
  // bfloat16 keeps the top 16 bits: 1.0 -> 0x3f80; 1 + 2^-8 is a tie -> even (0x3f80); 1 + 3*2^-8 -> 0x3f82.
  const bf = Buffer.from(encodeBase64(Float32Array.of(1, 1 + 2 ** -8, 1 + 3 * 2 ** -8), 'bfloat16', 'big'), 'base64');
  assert.deepEqual([bf.readUInt16BE(0), bf.readUInt16BE(2), bf.readUInt16BE(4)], [0x3f80, 0x3f80, 0x3f82]);
});

test('int8/uint8 scale by the vector max; zero vector stays zero', () => {
  assert.deepEqual(quantizeInt8(Float32Array.of(0.5, -0.25, 0, 0.125)), [127, -64, 0, 32]);
  assert.deepEqual(quantizeUint8(Float32Array.of(0.5, -0.25, 0, 0.125)), [255, 64, 128, 160]);
  assert.deepEqual(quantizeInt8(new Float32Array(3)), [0, 0, 0]);
});

test('ubinary packs x > 0 most-significant bit first (numpy.packbits); binary = ubinary - 128', () => {
  const row = Float32Array.of(1, -1, 0, 2, 3, -4, 5, 0.1, /* second byte */ 1, 0, 0);
  // bits: 1 0 0 1 1 0 1 1 -> 0b10011011 = 155; then 1 0 0 + 5 zero pad bits -> 0b10000000 = 128
  assert.deepEqual(packUbinary(row), [155, 128]);
  assert.deepEqual(packBinary(row), [27, 0]);
});
