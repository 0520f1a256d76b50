// The op entry points' `out` parameters (what bench:kernels times, so that nothing is allocated in the timed region)
// write the same bits as the allocating calls, into the caller's array, and return that array; attentionQkv (the
// engine's fused [T, 3H] layout) matches attention on separate q, k, v; memoryBandwidth measures something.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { attention, attentionQkv, biasActivation, embeddings, layerNorm, memoryBandwidth, pool } from '../../src/backends/native/ops.js';
import { randomArray } from './native_helpers.js';

describe('native ops write into a caller-provided out', () => {
  const rows = 37;
  const cols = 100;

  test('biasActivation: into out, and in place (out = x)', () => {
    const x = randomArray(rows * cols, 1, 3);
    const bias = randomArray(cols, 2);
    const expected = biasActivation(x, rows, cols, bias, 'gelu');
    const out = new Float32Array(rows * cols).fill(Number.NaN);
    assert.equal(biasActivation(x, rows, cols, bias, 'gelu', out), out);
    assert.deepEqual(out, expected);
    const copy = new Float32Array(x);
    assert.equal(biasActivation(copy, rows, cols, bias, 'gelu', copy), copy);
    assert.deepEqual(copy, expected);
  });

  test('layerNorm with residual', () => {
    const x = randomArray(rows * cols, 3, 3);
    const residual = randomArray(rows * cols, 4, 3);
    const gamma = randomArray(cols, 5);
    const beta = randomArray(cols, 6);
    const out = new Float32Array(rows * cols);
    assert.equal(layerNorm(x, rows, cols, gamma, beta, 1e-12, residual, out), out);
    assert.deepEqual(out, layerNorm(x, rows, cols, gamma, beta, 1e-12, residual));
  });

  test('embeddings', () => {
    const hiddenSize = 48;
    const spec = {
      tokenIds: Int32Array.from({ length: rows }, (_, i) => (i * 7) % 50),
      positions: Int32Array.from({ length: rows }, (_, i) => i % 16),
      word: randomArray(50 * hiddenSize, 7),
      wordDType: 'F32' as const,
      position: randomArray(16 * hiddenSize, 8),
      tokenType: randomArray(2 * hiddenSize, 9),
      hiddenSize,
      gamma: randomArray(hiddenSize, 10),
      beta: randomArray(hiddenSize, 11),
      eps: 1e-12,
    };
    const out = new Float32Array(rows * hiddenSize);
    assert.equal(embeddings({ ...spec, out }), out);
    assert.deepEqual(out, embeddings(spec));
  });

  test('pool', () => {
    const hiddenSize = 20;
    const cu = Int32Array.from([0, 5, 6, 19]);
    const hidden = randomArray(19 * hiddenSize, 12);
    const dims = Int32Array.from([0, 8, 0]);
    const normalize = Uint8Array.from([1, 0, 1]);
    const out = new Float32Array(hiddenSize + 8 + hiddenSize);
    assert.equal(pool(hidden, cu, hiddenSize, 'mean', dims, normalize, out), out);
    assert.deepEqual(out, pool(hidden, cu, hiddenSize, 'mean', dims, normalize));
  });

  test('an out of the wrong length is refused', () => {
    assert.throws(() => layerNorm(new Float32Array(6), 2, 3, new Float32Array(3), new Float32Array(3), 1e-5, undefined, new Float32Array(5)), RangeError);
  });
});

describe('native attention in the engine layout', () => {
  for (const onlyQuery of [undefined, Int32Array.from([0, 0, 4])]) {
    test(`attentionQkv = attention on the split q, k, v${onlyQuery === undefined ? '' : ' (one query per sequence)'}`, () => {
      const numHeads = 3;
      const headDim = 16;
      const width = numHeads * headDim;
      const cu = Int32Array.from([0, 7, 8, 20]);
      const T = 20;
      const qkv = randomArray(T * 3 * width, 13);
      const q = new Float32Array(T * width);
      const k = new Float32Array(T * width);
      const v = new Float32Array(T * width);
      for (let t = 0; t < T; t++) {
        q.set(qkv.subarray(t * 3 * width, t * 3 * width + width), t * width);
        k.set(qkv.subarray(t * 3 * width + width, t * 3 * width + 2 * width), t * width);
        v.set(qkv.subarray(t * 3 * width + 2 * width, (t + 1) * 3 * width), t * width);
      }
      const expected = attention(q, k, v, cu, numHeads, headDim, onlyQuery);
      const out = new Float32Array(T * width);
      assert.equal(attentionQkv(qkv, cu, numHeads, headDim, onlyQuery, out), out);
      assert.deepEqual(out, expected);
      const split = new Float32Array(T * width);
      assert.equal(attention(q, k, v, cu, numHeads, headDim, onlyQuery, split), split);
      assert.deepEqual(split, expected);
    });
  }
});

test('memoryBandwidth returns a positive GB/s', () => {
  const gbPerSecond = memoryBandwidth(2 ** 20, 0.01);
  assert.ok(gbPerSecond > 0 && Number.isFinite(gbPerSecond), `got ${gbPerSecond}`);
});
