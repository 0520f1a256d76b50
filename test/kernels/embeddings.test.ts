// Native fused embeddings (gather word + position + token type, then LayerNorm) against the float64 reference,
// with the word table in each checkpoint element type (read in place: float32, float16 bits, bfloat16 bits).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { embeddings as referenceEmbeddings } from '../../src/backends/reference/ops.js';
import { embeddings } from '../../src/backends/native/ops.js';
import { assertWithin, maxAbsError, randomArray, roundToBf16, toBf16Bits } from './native_helpers.js';

function tables(vocab: number, maxPositions: number, types: number, hidden: number) {
  // Word values on a 1/1024 grid in (-1, 1): exact in float16 and, after rounding, in bfloat16 tests below.
  const word = Float32Array.from(randomArray(vocab * hidden, hidden), (v) => Math.round(v * 1024) / 1024);
  return {
    word,
    position: randomArray(maxPositions * hidden, hidden + 1),
    tokenType: randomArray(types * hidden, hidden + 2),
    gamma: randomArray(hidden, hidden + 3),
    beta: randomArray(hidden, hidden + 4),
  };
}

function halfBits(values: Float32Array): Uint16Array {
  // Values on a 1/1024 grid with |v| < 1: normal halves for |v| >= 2^-14, exact.
  return Uint16Array.from(values, (v) => {
    if (v === 0) return 0;
    const sign = v < 0 ? 0x8000 : 0;
    const m = Math.abs(v);
    const e = Math.floor(Math.log2(m));
    return sign | ((e + 15) << 10) | Math.round((m / 2 ** e - 1) * 1024);
  });
}

describe('native embeddings', () => {
  for (const hidden of [1, 7, 64, 384]) {
    const vocab = 50;
    const t = tables(vocab, 40, 2, hidden);
    const tokenIds = Int32Array.from([0, 49, 7, 7, 3, 12, 1]);
    const positions = Int32Array.from([0, 1, 2, 39, 0, 1, 2]);
    const tokenTypeIds = Int32Array.from([0, 0, 1, 1, 0, 1, 0]);
    const common = { tokenIds, positions, tokenTypeIds, position: t.position, tokenType: t.tokenType, hiddenSize: hidden, gamma: t.gamma, beta: t.beta, eps: 1e-12 };
    // LayerNorm of a float32 sum: a few ulps of O(1) outputs (hidden 1 normalizes to exactly beta).
    const tolerance = 2e-6 * Math.sqrt(hidden);

    test(`float32 word table, hidden ${hidden}`, () => {
      const y = embeddings({ ...common, word: t.word, wordDType: 'F32' });
      const expected = referenceEmbeddings(tokenIds, positions, tokenTypeIds, t.word, t.position, t.tokenType, hidden, t.gamma, t.beta, 1e-12);
      assertWithin(maxAbsError(y, expected), tolerance, 'embeddings vs reference');
    });

    test(`float16 and bfloat16 word tables read in place, hidden ${hidden}`, () => {
      const f16 = embeddings({ ...common, word: halfBits(t.word), wordDType: 'F16' });
      assertWithin(maxAbsError(f16, embeddings({ ...common, word: t.word, wordDType: 'F32' })), 0, 'float16 table = its float32 values');
      const rounded = roundToBf16(t.word);
      const bf16 = embeddings({ ...common, word: toBf16Bits(t.word), wordDType: 'BF16' });
      assertWithin(maxAbsError(bf16, embeddings({ ...common, word: rounded, wordDType: 'F32' })), 0, 'bfloat16 table = its float32 values');
    });
  }

  test('token types default to 0 when absent', () => {
    const t = tables(10, 8, 2, 16);
    const base = { tokenIds: Int32Array.from([1, 2]), positions: Int32Array.from([0, 1]), word: t.word, wordDType: 'F32' as const, position: t.position, tokenType: t.tokenType, hiddenSize: 16, gamma: t.gamma, beta: t.beta, eps: 1e-12 };
    assert.deepEqual(embeddings(base), embeddings({ ...base, tokenTypeIds: new Int32Array(2) }));
  });

  test('an index outside a table is a RangeError naming it, before anything is read', () => {
    const t = tables(10, 8, 2, 16);
    const base = { tokenIds: Int32Array.from([1, 2]), positions: Int32Array.from([0, 1]), word: t.word, wordDType: 'F32' as const, position: t.position, tokenType: t.tokenType, hiddenSize: 16, gamma: t.gamma, beta: t.beta, eps: 1e-12 };
    assert.throws(() => embeddings({ ...base, tokenIds: Int32Array.from([1, 10]) }), /tokenIds\[1\] = 10/);
    assert.throws(() => embeddings({ ...base, tokenIds: Int32Array.from([-1, 0]) }), /tokenIds\[0\] = -1/);
    assert.throws(() => embeddings({ ...base, positions: Int32Array.from([0, 8]) }), /positions\[1\] = 8/);
    assert.throws(() => embeddings({ ...base, tokenTypeIds: Int32Array.from([0, 2]) }), /tokenTypeIds\[1\] = 2/);
    assert.throws(() => embeddings({ ...base, positions: Int32Array.from([0]) }), RangeError);
  });
});
