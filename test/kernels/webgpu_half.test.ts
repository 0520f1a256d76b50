// The f16 weight encoder of the WebGPU backend (gpu_buffers.ts float32ToHalfBits) against the project's reference
// converter (tensor_data.ts float32ToBytes 'F16'): same bits for every class of value. Needs no GPU.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { float32ToHalfBits, weightBytes } from '../../src/backends/webgpu/gpu_buffers.js';
import { float32ToBytes } from '../../src/model/tensor_data.js';

function referenceBits(values: Float32Array): Uint16Array {
  const bytes = float32ToBytes(values, 'F16');
  return new Uint16Array(bytes.buffer, bytes.byteOffset, values.length);
}

describe('webgpu f16 weight encoding', () => {
  it('rounds like the reference converter at the edges: zeros, subnormals, ties, overflow, infinities', () => {
    const edges = Float32Array.from([
      0,
      -0,
      1,
      -1,
      65504,
      65519,
      65520,
      1e6,
      -1e6,
      Infinity,
      -Infinity,
      2 ** -14,
      2 ** -24,
      2 ** -25,
      2 ** -25 * 1.5,
      2 ** -26,
      3e-8,
      5.96e-8,
      1e-10,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
      1 + 2 ** -11 + 2 ** -20,
      2047.5,
      2048.5,
      0.1,
      -0.3333,
    ]);
    assert.deepEqual(float32ToHalfBits(edges), referenceBits(edges));
    // NaN stays NaN (exponent all ones, mantissa non-zero).
    const [nanBits] = float32ToHalfBits(Float32Array.of(NaN));
    assert.equal(nanBits & 0x7c00, 0x7c00);
    assert.notEqual(nanBits & 0x3ff, 0);
  });

  it('agrees with the reference converter on 200k random bit patterns', () => {
    const bits = new Uint32Array(200_000);
    let state = 12345;
    for (let i = 0; i < bits.length; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      bits[i] = state;
    }
    const values = new Float32Array(bits.buffer);
    const mine = float32ToHalfBits(values);
    const theirs = referenceBits(values);
    for (let i = 0; i < values.length; i++) {
      if (Number.isNaN(values[i])) continue; // NaN payloads may differ; both stay NaN (checked above)
      if (mine[i] !== theirs[i]) assert.fail(`value ${values[i]} (0x${bits[i].toString(16)}): 0x${mine[i].toString(16)} != 0x${theirs[i].toString(16)}`);
    }
  });

  it('passes f32 weights through as their own bytes and packs f16 two per word', () => {
    const values = Float32Array.of(1.5, -2, 0.25);
    assert.deepEqual(new Float32Array(weightBytes(values, 'f32').slice().buffer), values);
    assert.equal(weightBytes(values, 'f16').byteLength, 6);
  });
});
