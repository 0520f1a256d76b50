import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelLoadError } from '../../src/errors.js';
import { float32ToBytes, halfToFloat, tensorToBigInt64, tensorToFloat32, tensorToFloat64 } from '../../src/model/tensor_data.js';
import type { DType, TensorView } from '../../src/model/types.js';

function view(dtype: DType, shape: number[], bytes: Uint8Array): TensorView {
  return { name: 't', dtype, shape, bytes };
}

describe('tensor data decoding', () => {
  it('decodes IEEE half values, including subnormals, infinities and NaN', () => {
    assert.equal(halfToFloat(0x3c00), 1);
    assert.equal(halfToFloat(0xc000), -2);
    assert.equal(halfToFloat(0x7bff), 65504);
    assert.equal(halfToFloat(0x0001), 2 ** -24);
    assert.equal(halfToFloat(0x7c00), Infinity);
    assert.equal(halfToFloat(0xfc00), -Infinity);
    assert.ok(Number.isNaN(halfToFloat(0x7e00)));
    assert.ok(Object.is(halfToFloat(0x8000), -0));
  });

  it('decodes BF16 as the top half of a float32 (bytes written by hand)', () => {
    // 1.0 = 0x3f80, -2.5 = 0xc020, little-endian.
    const decoded = tensorToFloat32(view('BF16', [2], Uint8Array.from([0x80, 0x3f, 0x20, 0xc0])));
    assert.deepEqual([...decoded], [1, -2.5]);
  });

  it('F16/BF16 encoding round-trips representable values and rounds to nearest even', () => {
    const values = [0, 1, -1, 0.5, 3.140625, 1024, -65504, 2 ** -24];
    assert.deepEqual([...tensorToFloat32(view('F16', [values.length], float32ToBytes(values, 'F16')))], values);
    // BF16 keeps 7 mantissa bits (spacing 2^-7 at 1.0): 1 + 2^-8 is the midpoint of 1 and 1 + 2^-7 and rounds to
    // the even one (1); 1 + 3 * 2^-8 is the midpoint of 1 + 2^-7 (odd) and 1 + 2^-6 (even). F16 spacing is 2^-10.
    const bf16 = tensorToFloat32(view('BF16', [2], float32ToBytes([1 + 2 ** -8, 1 + 3 * 2 ** -8], 'BF16')));
    assert.deepEqual([...bf16], [1, 1 + 2 ** -6]);
    const f16 = tensorToFloat32(view('F16', [1], float32ToBytes([1 + 2 ** -11], 'F16')));
    assert.deepEqual([...f16], [1]);
  });

  it('returns a zero-copy view for aligned F32 and a correct copy for unaligned F32', () => {
    const storage = new Uint8Array(4 * 3 + 1);
    const values = float32ToBytes([1.25, -3, 7.5], 'F32');
    storage.set(values, 0);
    const aligned = view('F32', [3], storage.subarray(0, 12));
    const alignedDecoded = tensorToFloat32(aligned);
    assert.equal(alignedDecoded.buffer, storage.buffer);
    assert.deepEqual([...alignedDecoded], [1.25, -3, 7.5]);
    storage.copyWithin(1, 0, 12);
    const unaligned = view('F32', [3], storage.subarray(1, 13));
    const unalignedDecoded = tensorToFloat32(unaligned);
    assert.notEqual(unalignedDecoded.buffer, storage.buffer);
    assert.deepEqual([...unalignedDecoded], [1.25, -3, 7.5]);
  });

  it('decodes I64 as bigints and as floats', () => {
    const bytes = float32ToBytes([0, 5, -3], 'I64');
    assert.deepEqual([...tensorToBigInt64(view('I64', [3], bytes))], [0n, 5n, -3n]);
    assert.deepEqual([...tensorToFloat64(view('I64', [3], bytes))], [0, 5, -3]);
  });

  it('widens to float64 exactly', () => {
    const decoded = tensorToFloat64(view('F16', [2], float32ToBytes([0.1, -2], 'F16')));
    assert.equal(decoded[0], halfToFloat(0x2e66));
    assert.equal(decoded[1], -2);
  });

  it('rejects bytes that do not match the shape', () => {
    assert.throws(
      () => tensorToFloat32(view('F32', [3], new Uint8Array(8))),
      (error: unknown) => {
        assert.ok(error instanceof ModelLoadError);
        assert.match(error.message, /tensor t: 8 bytes do not match F32 shape \[3\] \(12 bytes\)/);
        return true;
      },
    );
    assert.throws(() => tensorToBigInt64(view('F32', [1], new Uint8Array(4))), /expected I64, found F32/);
  });
});
