// The decoder reference ops, pinned by small cases worked out by hand (transformers modeling_qwen3.py semantics):
// Qwen3RMSNorm, rotate-half RoPE at known positions, repeat_kv's head mapping, the causal mask, SwiGLU, and paged
// attention through a block table against the one-shot causal attention.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyRotaryEmbedding,
  causalAttention,
  kvHeadOf,
  pagedCausalAttention,
  rmsNorm,
  ropeInverseFrequencies,
  silu,
  swiGlu,
} from '../../src/model/reference/decoder_ops.js';
import { ReferenceKvStore } from '../../src/model/reference/kv_store.js';

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-12): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `[${i}] ${actual[i]} vs ${expected[i]}`);
  }
}

describe('rmsNorm (Qwen3RMSNorm)', () => {
  it('divides by the root mean square, no mean subtraction, then scales by the weight', () => {
    // mean(x^2) = (9 + 16) / 2 = 12.5; sqrt(12.5) = 3.5355339059327378
    assertClose(rmsNorm([3, 4], 1, 2, [1, 1], 0), [0.848528137423857, 1.131370849898476]);
    // rms of [2, -2, 2, -2] is 2 (a LayerNorm would subtract the mean 0 too; take a row whose mean is not 0 next)
    assertClose(rmsNorm([2, -2, 2, -2], 1, 4, [1, 2, 3, 4], 0), [1, -2, 3, -4]);
    // [1, 3]: mean(x^2) = 5, eps 4 -> sqrt(9) = 3: [1/3, 1]; a LayerNorm would give [-1, 1]
    assertClose(rmsNorm([1, 3], 1, 2, [1, 1], 4), [1 / 3, 1]);
  });

  it('normalizes each row separately, which is how q_norm / k_norm act on every head', () => {
    // two "heads" of head_dim 2: [3, 4] and [0, 5]
    assertClose(rmsNorm([3, 4, 0, 5], 2, 2, [1, 1], 0), [0.848528137423857, 1.131370849898476, 0, Math.SQRT2]);
    assert.throws(() => rmsNorm([1, 2, 3], 1, 2, [1, 1], 0), /x has 3 values, expected 2/);
  });
});

describe('rotate-half RoPE (apply_rotary_pos_emb)', () => {
  it('uses inv_freq = theta^(-2i/d)', () => {
    assertClose(ropeInverseFrequencies(4, 10000), [1, 0.01]);
    assertClose(ropeInverseFrequencies(8, 1e6), [1, 1e6 ** -0.25, 1e6 ** -0.5, 1e6 ** -0.75]);
    assert.throws(() => ropeInverseFrequencies(3, 10000), /even/);
  });

  it('rotates dimension j with j + d/2 (not adjacent pairs) by position * inv_freq[j]', () => {
    // d = 4, theta = 10000 -> inv_freq [1, 0.01]. Position 1, x = e0: out[0] = cos 1, out[2] = sin 1.
    assertClose(applyRotaryEmbedding([1, 0, 0, 0], [1], 1, 4, 10000), [0.5403023058681398, 0, 0.8414709848078965, 0]);
    // Position 2, x = e1: angle 0.02 -> out[1] = cos 0.02, out[3] = sin 0.02.
    assertClose(applyRotaryEmbedding([0, 1, 0, 0], [2], 1, 4, 10000), [0, 0.9998000066665778, 0, 0.01999866669333308]);
    // x = e2 (second half): out[0] = -sin, out[2] = cos (rotate_half = cat(-x2, x1)).
    assertClose(applyRotaryEmbedding([0, 0, 1, 0], [1], 1, 4, 10000), [-0.8414709848078965, 0, 0.5403023058681398, 0]);
    // Position 0 is the identity; every head of a token gets the same rotation.
    assertClose(applyRotaryEmbedding([1, 2, 3, 4, 5, 6, 7, 8], [0], 2, 4, 10000), [1, 2, 3, 4, 5, 6, 7, 8]);
    const twoHeads = applyRotaryEmbedding([1, 0, 0, 0, 1, 0, 0, 0], [1], 2, 4, 10000);
    assertClose(twoHeads.subarray(4), twoHeads.subarray(0, 4));
  });

  it('makes q.k depend only on the distance between positions', () => {
    const q = [0.3, -1.2, 0.7, 2.0];
    const k = [1.1, 0.4, -0.5, 0.9];
    const dot = (pq: number, pk: number): number => {
      const a = applyRotaryEmbedding(q, [pq], 1, 4, 1e6);
      const b = applyRotaryEmbedding(k, [pk], 1, 4, 1e6);
      return a.reduce((sum, value, i) => sum + value * b[i], 0);
    };
    assert.ok(Math.abs(dot(5, 3) - dot(30002, 30000)) < 1e-9);
    assert.ok(Math.abs(dot(5, 3) - dot(3, 5)) > 1e-3, 'but not symmetric in the distance');
  });
});

describe('grouped-query attention and the causal mask', () => {
  it('maps query head h to kv head floor(h / (nH / nKV)), as repeat_kv does', () => {
    assert.deepEqual(
      [0, 1, 2, 3].map((h) => kvHeadOf(h, 4, 2)),
      [0, 0, 1, 1],
    );
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((h) => kvHeadOf(h, 8, 2)),
      [0, 0, 0, 0, 1, 1, 1, 1],
    );
    assert.deepEqual(
      [0, 1, 2].map((h) => kvHeadOf(h, 3, 3)),
      [0, 1, 2],
    );
    assert.deepEqual(
      [0, 1, 2].map((h) => kvHeadOf(h, 3, 1)),
      [0, 0, 0],
    );
    assert.throws(() => kvHeadOf(0, 4, 3), /not a multiple/);
  });

  it('gives a lone token the value row of its kv head, whatever its query', () => {
    // 4 query heads, 2 kv heads, head_dim 2: kv head 0 values [10, 11], kv head 1 values [20, 21].
    const out = causalAttention([1, 2, 3, 4, 5, 6, 7, 8], [9, 9, 9, 9], [10, 11, 20, 21], [0, 1], 4, 2, 2);
    assertClose(out, [10, 11, 10, 11, 20, 21, 20, 21]);
  });

  it('lets token i see tokens 0..i only, softmax(q k / sqrt(d)) weighted', () => {
    // head_dim 1, one head. Token 0 sees only itself: v0 = 2. Token 1: q = 1, keys [0, ln 3] -> weights [1/4, 3/4]
    // -> 2/4 + 4 * 3/4 = 3.5.
    const out = causalAttention([0, 1], [0, Math.log(3)], [2, 4], [0, 2], 1, 1, 1);
    assertClose(out, [2, 3.5], 1e-14);
    // Changing a later token never changes an earlier one's output; sequences never see each other.
    const changed = causalAttention([0, 1], [0, 5], [2, 100], [0, 2], 1, 1, 1);
    assert.equal(changed[0], 2);
    const twoSequences = causalAttention([0, 1, 7], [0, Math.log(3), 1], [2, 4, 9], [0, 2, 3], 1, 1, 1);
    assertClose(twoSequences, [2, 3.5, 9], 1e-14);
  });
});

describe('paged attention through block tables', () => {
  it('equals one-shot causal attention when cached and new tokens are read from scattered blocks', () => {
    const numHeads = 4;
    const numKvHeads = 2;
    const headDim = 4;
    const blockSize = 2;
    const numTokens = 7;
    let state = 12345;
    const random = (): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32 - 0.5;
    };
    const q = Float64Array.from({ length: numTokens * numHeads * headDim }, random);
    const k = Float64Array.from({ length: numTokens * numKvHeads * headDim }, random);
    const v = Float64Array.from({ length: numTokens * numKvHeads * headDim }, random);
    const oneShot = causalAttention(q, k, v, [0, numTokens], numHeads, numKvHeads, headDim);

    const store = new ReferenceKvStore(1, 10, blockSize, numKvHeads, headDim);
    const table = Int32Array.from([7, 2, 9, 4]); // positions 0-1 in block 7, 2-3 in 2, 4-5 in 9, 6 in 4
    const width = numKvHeads * headDim;
    for (let p = 0; p < numTokens; p++) store.write(0, table[Math.floor(p / blockSize)], p % blockSize, k, v, p * width);
    // The last 4 tokens as the new chunk after 3 cached ones (a cut in the middle of block 2).
    const chunkQ = q.subarray(3 * numHeads * headDim);
    const paged = pagedCausalAttention(chunkQ, [0, 4], [3], [table], store.layer(0), numHeads, numKvHeads, headDim);
    assertClose(paged, oneShot.subarray(3 * numHeads * headDim), 0);
  });

  it('refuses block 0, tables too short, and slots never written', () => {
    const store = new ReferenceKvStore(1, 4, 2, 1, 2);
    assert.throws(() => store.write(0, 0, 0, [1, 2], [3, 4]), /reserved null block/);
    assert.throws(() => store.key(0, 1, 0), /read before it was written/);
    store.write(0, 1, 0, [1, 2], [3, 4]);
    assertClose(store.value(0, 1, 0), [3, 4]);
    assert.throws(() => store.key(0, 1, 1), /read before it was written/);
    assert.throws(() => pagedCausalAttention([1, 1], [0, 1], [2], [Int32Array.from([1])], store.layer(0), 1, 1, 2), /covers 2 positions, needs 3/);
  });
});

describe('SwiGLU (Qwen3MLP)', () => {
  it('is silu(gate) * up with silu(x) = x * sigmoid(x)', () => {
    assert.equal(silu(0), 0);
    assertClose([silu(1), silu(-1)], [0.7310585786300049, -0.2689414213699951], 1e-15);
    assertClose(swiGlu([1, 0, -1], [2, 5, 1]), [1.4621171572600098, 0, -0.2689414213699951], 1e-15);
  });
});
