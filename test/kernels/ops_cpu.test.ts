// The native CPU kernels against the op-case table (op_cases.ts), then the properties of the native ops that are not
// op cases: bitwise batch invariance, fused = unfused compositions, f16 / bf16 sources read as their float32 values,
// onlyQuery, and argument validation. isa_variants.test.ts reruns this file under every other POOLED_ISA and both
// bfloat16 GEMM kernels.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { float32ToBytes } from '../../src/model/tensor_data.js';
import {
  attention,
  biasActivation,
  embeddings,
  kernelInfo,
  layerNorm,
  linear,
  packLinear,
  pagedAttention,
  pool,
  rmsNorm,
  rope,
  gatedActivation,
  type Precision,
} from '../../src/backends/native/ops.js';
import {
  OP_CASES,
  packedHalves,
  writtenCache,
  type AnyOpCase,
  type CausalAttentionInput,
  type GemmInput,
  type OpBackend,
  type OpInputs,
  type PagedAttentionInput,
} from './op_cases.js';
import { defineOpCaseTests } from './op_runner.js';
import { maxAbs, maxAbsError } from '../helpers/metrics.js';
import { assertWithin, randomArray, roundToBf16, toBf16Bits } from './native_helpers.js';
import { cuSeqLensOf } from './webgpu_support.js';

/** float16 bits of float32 values (round to nearest even), what an F16 checkpoint holds. */
function halfBits(values: Float32Array): Uint16Array {
  const bytes = float32ToBytes(values, 'F16');
  return new Uint16Array(bytes.buffer, bytes.byteOffset, values.length);
}

function gemm(input: GemmInput): Float32Array {
  const { x, m, k, w, n, bias, epilogue, dtype } = input;
  // float16 weights: read from F16 bits into the float32 packing (the f32 kernel multiplies the f16-rounded values).
  const packed = dtype === 'float16' ? packLinear(halfBits(w), n, k, 'float32', 'F16') : packLinear(w, n, k, dtype);
  switch (epilogue.kind) {
    case 'none':
      return linear(x, m, packed, { bias });
    case 'activation':
      return linear(x, m, packed, { bias, activation: epilogue.activation });
    case 'residual':
      return linear(x, m, packed, { bias, residual: epilogue.residual });
    case 'residual_layernorm':
      return linear(x, m, packed, { bias, residual: epilogue.residual, lnGamma: epilogue.gamma, lnBeta: epilogue.beta, lnEps: epilogue.eps });
  }
}

function paged(input: PagedAttentionInput): Float32Array {
  // The op reads K/V already in the caches: the engine's kv write comes first.
  const { keys, values } = writtenCache(input);
  const { q, numBlocks, blockSize, numHeads, numKvHeads, headDim, cuSeqLens, numCachedTokens, blockTables } = input;
  return pagedAttention({ q, kCache: keys, vCache: values, numBlocks, blockSize, numHeads, numKvHeads, headDim, cuSeqLens, numCachedTokens, blockTables });
}

/** One-shot causal attention as the engine runs a first chunk: nothing cached, each sequence in its own blocks. */
function causalAsPaged(input: CausalAttentionInput): Float32Array {
  const blockSize = 16;
  const kvWidth = input.numKvHeads * input.headDim;
  const numSeqs = input.cuSeqLens.length - 1;
  const blockTables: Int32Array[] = [];
  let nextBlock = 1; // block 0 is the reserved null block
  for (let s = 0; s < numSeqs; s++) {
    const count = Math.ceil((input.cuSeqLens[s + 1] - input.cuSeqLens[s]) / blockSize);
    blockTables.push(Int32Array.from({ length: count }, (_, i) => nextBlock + i));
    nextBlock += count;
  }
  const cacheSize = nextBlock * blockSize * kvWidth;
  return paged({
    ...input,
    numBlocks: nextBlock,
    blockSize,
    cacheKeys: new Float32Array(cacheSize),
    cacheValues: new Float32Array(cacheSize),
    blockTables,
    numCachedTokens: new Int32Array(numSeqs),
  });
}

const RUNNERS: { [O in keyof OpInputs]: (input: OpInputs[O]) => Float32Array } = {
  gemm,
  layer_norm: (i) => layerNorm(i.x, i.rows, i.cols, i.gamma, i.beta, i.eps),
  add_layer_norm: (i) => layerNorm(i.x, i.rows, i.cols, i.gamma, i.beta, i.eps, i.residual),
  bias_activation: (i) => biasActivation(i.x, i.rows, i.cols, i.bias, i.activation),
  embeddings: (i) =>
    embeddings({
      tokenIds: i.tokenIds,
      positions: i.positions,
      tokenTypeIds: i.tokenTypeIds,
      word: i.word,
      wordDType: 'F32',
      position: i.position,
      tokenType: i.tokenType,
      hiddenSize: i.hidden,
      gamma: i.gamma,
      beta: i.beta,
      eps: i.eps,
    }),
  attention: (i) => attention(i.q, i.k, i.v, i.cuSeqLens, i.numHeads, i.headDim, undefined, undefined, i.window ?? 0),
  pooling: (i) => pool(i.states, i.cuSeqLens, i.hidden, i.mode, Int32Array.from(i.dimensions), Uint8Array.from(i.normalize, Number)),
  rms_norm: (i) => rmsNorm(i.x, i.rows, i.groups, i.cols, i.weight, i.eps),
  rope: (i) => rope(i.x, i.positions, i.numHeads, i.headDim, i.theta, i.maxPosition, i.inverseFrequencyScale),
  gated_activation: (i) => gatedActivation(packedHalves(i), i.rows, i.cols, i.activation, i.activatedHalf),
  causal_attention: causalAsPaged,
  paged_attention: paged,
};

const cpu: OpBackend = {
  name: 'cpu',
  traits: { bf16RoundsActivations: kernelInfo().bf16DotProduct },
  // Every op and dtype in the table; WGSL tilings are ignored (the native GEMM and attention pick their own tiles).
  unsupported: () => null,
  run: async (c: AnyOpCase, input) => (RUNNERS[c.op] as (i: typeof input) => Float32Array)(input),
};

defineOpCaseTests(cpu);

describe('native gemm, beyond the op cases', () => {
  for (const dtype of ['float32', 'bfloat16', 'int8'] as const) {
    // Every bias + activation and bias + residual + LayerNorm case of this dtype in the table, except rows near 300:
    // there the two summation orders of the mean differ by ulps of 300 * 96, not of O(1) values (measured 1.8e-4 on
    // the portable kernels), which the reference comparison already bounds.
    const fusedCases = OP_CASES.filter((c): c is Extract<AnyOpCase, { op: 'gemm' }> => c.op === 'gemm' && !c.name.includes('rows near')).filter((c) => {
      const input = c.input();
      return input.dtype === dtype && input.bias !== null && (input.epilogue.kind === 'activation' || input.epilogue.kind === 'residual_layernorm');
    });
    for (const c of fusedCases) {
      test(`fused = unfused: ${c.name}`, () => {
        const input = c.input();
        const { x, m, k, w, n, bias, epilogue } = input;
        const packed = packLinear(w, n, k, dtype);
        if (epilogue.kind === 'activation') {
          // float32 / bfloat16: the same float32 operations in the same order, only the place where they happen
          // differs. int8: the fused epilogue adds the bias in the FMA that dequantizes (one rounding fewer), so the
          // pre-activation values differ by at most one rounding, 2^-24 of their magnitude, and GELU
          // carries that through (slope <= 1.13 where the inputs are large and positive): 2^-22 * (max |output| + 1).
          const unfused = biasActivation(linear(x, m, packed), m, n, bias, epilogue.activation);
          const tolerance = dtype === 'int8' ? 2 ** -22 * (maxAbs(unfused) + 1) : 0;
          assertWithin(maxAbsError(gemm(input), unfused), tolerance, `fused vs unfused bias + ${epilogue.activation}`);
        } else if (epilogue.kind === 'residual_layernorm') {
          // Same sums; the fused path's mean adds the row in another order (two accumulators): a few ulps.
          const unfused = layerNorm(linear(x, m, packed, { bias }), m, n, epilogue.gamma, epilogue.beta, epilogue.eps, epilogue.residual);
          assertWithin(maxAbsError(gemm(input), unfused), 2e-6, 'fused vs unfused bias + residual + LayerNorm');
        }
      });
    }

    test(`${dtype}: rows do not depend on the batch around them (bitwise)`, () => {
      const [m, k, n] = [61, 200, 90];
      const x = randomArray(m * k, 7);
      const packed = packLinear(randomArray(n * k, 8), n, k, dtype);
      const bias = randomArray(n, 9);
      const whole = linear(x, m, packed, { bias, activation: 'gelu_new' });
      for (const r of [0, 13, 60]) {
        const alone = linear(x.slice(r * k, (r + 1) * k), 1, packed, { bias, activation: 'gelu_new' });
        assert.deepEqual(alone, whole.subarray(r * n, (r + 1) * n), `row ${r}`);
      }
    });

    test(`${dtype}: float16 and bfloat16 sources pack to the same weights as their float32 values`, () => {
      const [m, k, n] = [5, 33, 17];
      const x = randomArray(m * k, 21);
      const w = roundToBf16(randomArray(n * k, 22));
      const fromF32 = linear(x, m, packLinear(w, n, k, dtype));
      assert.deepEqual(linear(x, m, packLinear(toBf16Bits(w), n, k, dtype, 'BF16')), fromF32);
      // Values on a 1/256 grid below 1 are exact in float16 too.
      const grid = Float32Array.from(w, (v) => Math.round(v * 256) / 256);
      assert.deepEqual(linear(x, m, packLinear(halfBits(grid), n, k, dtype, 'F16')), linear(x, m, packLinear(grid, n, k, dtype)));
    });
  }

  const packed = packLinear(randomArray(4 * 3, 1), 4, 3, 'float32');
  test('a with the wrong length is a RangeError', () => {
    assert.throws(() => linear(new Float32Array(5), 2, packed), RangeError);
  });
  test('a weight whose length is not n * k is a RangeError', () => {
    assert.throws(() => packLinear(new Float32Array(11), 4, 3, 'float32'), RangeError);
  });
  test('an unknown dtype or activation is a TypeError', () => {
    assert.throws(() => packLinear(new Float32Array(12), 4, 3, 'float16' as Precision), TypeError);
    assert.throws(() => linear(new Float32Array(6), 2, packed, { activation: 'swish' as 'gelu' }), TypeError);
  });
  test('int8 packing refuses k past kInt8MaxK (int32 sums) and weights that are not finite, naming them', () => {
    assert.throws(() => packLinear(new Float32Array(65537), 1, 65537, 'int8'), /int8 weights take k <= 65536 \(int32 sums\), got k=65537/);
    const w = randomArray(4 * 3, 2);
    w[7] = Number.NaN;
    assert.throws(() => packLinear(w, 4, 3, 'int8'), /weight row 2 is not finite/);
    w[7] = Number.POSITIVE_INFINITY;
    assert.throws(() => packLinear(w, 4, 3, 'int8'), /weight row 2 is not finite/);
    assert.equal(packLinear(randomArray(4 * 3, 2), 4, 3, 'int8').dtype, 'int8');
  });
  test('int8: an all-zero weight row or activation row gives exactly the bias (no 0/0 in either scale)', () => {
    const [m, k, n] = [3, 20, 5];
    const w = randomArray(n * k, 3);
    w.fill(0, 2 * k, 3 * k); // weight row 2: scale 0
    const x = randomArray(m * k, 4);
    x.fill(0, k, 2 * k); // activation row 1: range [0, 0]
    const bias = randomArray(n, 5);
    const y = linear(x, m, packLinear(w, n, k, 'int8'), { bias });
    for (let r = 0; r < m; r++) assert.equal(y[r * n + 2], bias[2], `row ${r}, column 2`);
    assert.deepEqual(y.subarray(n, 2 * n), bias);
    assert.ok(y.every(Number.isFinite));
  });
  test('a residual that is also the output is refused', () => {
    const out = new Float32Array(8);
    assert.throws(() => linear(new Float32Array(6), 2, packed, { residual: out }, out), /residual overlaps the output/);
  });
  test('m = 0 gives an empty result', () => {
    assert.equal(linear(new Float32Array(0), 0, packed).length, 0);
  });
});

describe('native row ops, beyond the op cases', () => {
  for (const c of OP_CASES.filter((c): c is Extract<AnyOpCase, { op: 'add_layer_norm' }> => c.op === 'add_layer_norm')) {
    test(`layerNorm: fused residual = LayerNorm of the float32 sum, ${c.name}`, () => {
      const { x, residual, rows, cols, gamma, beta, eps } = c.input();
      const sum = Float32Array.from(x, (v, i) => v + (residual?.[i] ?? 0));
      // The fused add rounds x + residual to float32 exactly as the explicit sum does.
      assertWithin(
        maxAbsError(layerNorm(x, rows, cols, gamma, beta, eps, residual), layerNorm(sum, rows, cols, gamma, beta, eps)),
        1e-6,
        'fused residual vs unfused',
      );
    });
  }

  test('layerNorm: bad sizes are RangeErrors', () => {
    const g = new Float32Array(4);
    assert.throws(() => layerNorm(new Float32Array(7), 2, 4, g, g, 1e-5), RangeError);
    assert.throws(() => layerNorm(new Float32Array(8), 2, 4, new Float32Array(3), g, 1e-5), RangeError);
    assert.throws(() => layerNorm(new Float32Array(8), 2, 4, g, g, -1), RangeError);
  });

  test('biasActivation: bad sizes are RangeErrors', () => {
    assert.throws(() => biasActivation(new Float32Array(5), 2, 3, null, 'gelu'), RangeError);
    assert.throws(() => biasActivation(new Float32Array(6), 2, 3, new Float32Array(2), 'gelu'), RangeError);
  });

  const embeddingCases = OP_CASES.filter((c): c is Extract<AnyOpCase, { op: 'embeddings' }> => c.op === 'embeddings' && c.name.endsWith('7 tokens'));
  for (const c of embeddingCases) {
    test(`embeddings: float16 and bfloat16 word tables read in place, ${c.name}`, () => {
      const i = c.input();
      const common = {
        tokenIds: i.tokenIds,
        positions: i.positions,
        tokenTypeIds: i.tokenTypeIds,
        position: i.position,
        tokenType: i.tokenType,
        hiddenSize: i.hidden,
        gamma: i.gamma,
        beta: i.beta,
        eps: i.eps,
      };
      // Word values on a 1/1024 grid with |v| < 1: exact in float16.
      const f16 = embeddings({ ...common, word: halfBits(i.word), wordDType: 'F16' });
      assertWithin(maxAbsError(f16, embeddings({ ...common, word: i.word, wordDType: 'F32' })), 0, 'float16 table = its float32 values');
      const bf16 = embeddings({ ...common, word: toBf16Bits(i.word), wordDType: 'BF16' });
      assertWithin(maxAbsError(bf16, embeddings({ ...common, word: roundToBf16(i.word), wordDType: 'F32' })), 0, 'bfloat16 table = its float32 values');
    });
  }

  const small = () => {
    const i = embeddingCases[2].input(); // hidden 64
    return {
      tokenIds: Int32Array.from([1, 2]),
      positions: Int32Array.from([0, 1]),
      word: i.word.subarray(0, 10 * 64),
      wordDType: 'F32' as const,
      position: i.position.subarray(0, 8 * 64),
      tokenType: i.tokenType,
      hiddenSize: 64,
      gamma: i.gamma,
      beta: i.beta,
      eps: 1e-12,
    };
  };
  test('embeddings: a missing position or token type table adds nothing (= a zero table, bitwise)', () => {
    const base = small();
    const zeros = (table: Float32Array | null) => new Float32Array(table?.length ?? 0);
    assert.deepEqual(embeddings({ ...base, position: null }), embeddings({ ...base, position: zeros(base.position) }));
    const noTypes = { ...base, tokenTypeIds: null, tokenType: null };
    assert.deepEqual(embeddings(noTypes), embeddings({ ...base, tokenTypeIds: null, tokenType: zeros(base.tokenType) }));
    assert.deepEqual(
      embeddings({ ...noTypes, position: null, positions: Int32Array.of(-5, 1 << 30) }),
      embeddings({ ...base, tokenTypeIds: null, tokenType: zeros(base.tokenType), position: zeros(base.position) }),
      'positions are not read without a position table',
    );
    assert.throws(() => embeddings({ ...noTypes, tokenTypeIds: new Int32Array(2) }), /no token type table/);
  });

  test('embeddings: token types default to 0 when absent', () => {
    const base = small();
    assert.deepEqual(embeddings(base), embeddings({ ...base, tokenTypeIds: new Int32Array(2) }));
  });

  test('embeddings: an index outside a table is a RangeError naming it, before anything is read', () => {
    const base = small();
    assert.throws(() => embeddings({ ...base, tokenIds: Int32Array.from([1, 10]) }), /tokenIds\[1\] = 10/);
    assert.throws(() => embeddings({ ...base, tokenIds: Int32Array.from([-1, 0]) }), /tokenIds\[0\] = -1/);
    assert.throws(() => embeddings({ ...base, positions: Int32Array.from([0, 8]) }), /positions\[1\] = 8/);
    assert.throws(() => embeddings({ ...base, tokenTypeIds: Int32Array.from([0, 2]) }), /tokenTypeIds\[1\] = 2/);
    assert.throws(() => embeddings({ ...base, positions: Int32Array.from([0]) }), RangeError);
  });

  test('pool: fused normalize = pool, then normalize (truncate first)', () => {
    const hidden = 48;
    const cu = cuSeqLensOf([3, 9]);
    const x = randomArray(12 * hidden, 9);
    const dims = Int32Array.from([16, 0]);
    const fused = pool(x, cu, hidden, 'mean', dims, Uint8Array.from([1, 1]));
    const plain = pool(x, cu, hidden, 'mean', dims, Uint8Array.from([0, 0]));
    for (const [start, size] of [
      [0, 16],
      [16, hidden],
    ] as const) {
      const row = plain.subarray(start, start + size);
      const norm = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
      assertWithin(
        maxAbsError(
          fused.subarray(start, start + size),
          Array.from(row, (v) => v / norm),
        ),
        1e-6,
        'fused vs unfused normalize',
      );
    }
  });

  test('pool: empty sequences and bad dimensions are RangeErrors', () => {
    const x = new Float32Array(8);
    assert.throws(() => pool(x, Int32Array.from([0, 0, 2]), 4, 'cls', new Int32Array(2), new Uint8Array(2)), /empty/);
    assert.throws(() => pool(x, Int32Array.from([0, 2]), 4, 'cls', Int32Array.from([5]), new Uint8Array(1)), RangeError);
    assert.throws(() => pool(x, Int32Array.from([0, 1]), 4, 'cls', new Int32Array(1), new Uint8Array(1)), RangeError);
    assert.throws(() => pool(x, Int32Array.from([0, 2]), 4, 'max' as 'cls', new Int32Array(1), new Uint8Array(1)), TypeError);
  });

  test('rmsNorm: zero rows, and argument errors are RangeErrors', () => {
    assert.equal(rmsNorm(new Float32Array(0), 0, 1, 8, new Float32Array(8), 1e-6).length, 0);
    assert.throws(() => rmsNorm(new Float32Array(7), 1, 1, 8, new Float32Array(8), 1e-6), RangeError);
    assert.throws(() => rmsNorm(new Float32Array(8), 1, 1, 8, new Float32Array(7), 1e-6), RangeError);
    assert.throws(() => rmsNorm(new Float32Array(8), 1, 1, 8, new Float32Array(8), -1), RangeError);
  });

  test('rope: positions outside [0, maxPosition), odd head dims and bad theta are RangeErrors', () => {
    const x = new Float32Array(16);
    assert.throws(() => rope(x, Int32Array.of(8), 1, 16, 10000, 8), /outside \[0, 8\)/);
    assert.throws(() => rope(x, Int32Array.of(-1), 1, 16, 10000, 8), RangeError);
    assert.throws(() => rope(new Float32Array(15), Int32Array.of(0), 1, 15, 10000, 8), /even/);
    assert.throws(() => rope(x, Int32Array.of(0), 1, 16, 0, 8), RangeError);
    assert.throws(() => rope(x, Int32Array.of(0, 1), 1, 16, 10000, 8), RangeError); // x too short for two tokens
  });

  test('gatedActivation: fused GeGLU = the standalone activation, then the product (bitwise), in either half order', () => {
    const [rows, cols] = [6, 45];
    const packed = randomArray(rows * 2 * cols, 77, 6);
    for (const activatedHalf of ['first', 'second'] as const) {
      for (const activation of ['gelu', 'gelu_pytorch_tanh'] as const) {
        const fused = gatedActivation(packed, rows, cols, activation, activatedHalf);
        const activated = new Float32Array(rows * cols);
        const multiplier = new Float32Array(rows * cols);
        for (let r = 0; r < rows; r++) {
          const [a, b] = activatedHalf === 'first' ? [0, cols] : [cols, 0];
          activated.set(packed.subarray(2 * r * cols + a, 2 * r * cols + a + cols), r * cols);
          multiplier.set(packed.subarray(2 * r * cols + b, 2 * r * cols + b + cols), r * cols);
        }
        const act = biasActivation(activated, rows, cols, null, activation);
        const unfused = act.map((value, i) => Math.fround(value * multiplier[i]));
        // Same simd.h activation, one float32 product: the fused kernel must not differ at all.
        assert.deepEqual(fused, unfused, `${activation}, activated half ${activatedHalf}`);
      }
    }
  });

  test('gatedActivation: wrong lengths are RangeErrors, unknown activations or halves TypeErrors', () => {
    assert.throws(() => gatedActivation(new Float32Array(7), 1, 4, 'silu', 'first'), RangeError);
    assert.equal(gatedActivation(new Float32Array(0), 0, 4, 'gelu', 'second').length, 0);
    assert.throws(() => gatedActivation(new Float32Array(8), 1, 4, 'relu' as never, 'first'), /activation must be 'silu', 'gelu'/);
    assert.throws(() => gatedActivation(new Float32Array(8), 1, 4, 'silu', 'middle' as never), /activatedHalf must be 'first' or 'second'/);
  });
});

describe('native attention, beyond the op cases', () => {
  test('a sequence attends only to itself: alone = inside a mixed batch (bitwise)', () => {
    const [numHeads, headDim] = [4, 16];
    const width = numHeads * headDim;
    const lengths = [5, 70, 1, 33];
    const tokens = 109;
    const q = randomArray(tokens * width, 1);
    const k = randomArray(tokens * width, 2);
    const v = randomArray(tokens * width, 3);
    const batched = attention(q, k, v, cuSeqLensOf(lengths), numHeads, headDim);
    let start = 0;
    for (const len of lengths) {
      const slice = (a: Float32Array) => a.slice(start * width, (start + len) * width);
      const alone = attention(slice(q), slice(k), slice(v), cuSeqLensOf([len]), numHeads, headDim);
      assert.deepEqual(alone, batched.subarray(start * width, (start + len) * width), `sequence of ${len}`);
      start += len;
    }
  });

  test('onlyQuery computes just those rows, bitwise as in the full computation', () => {
    const [numHeads, headDim] = [3, 20];
    const width = numHeads * headDim;
    const lengths = [1, 9, 130, 4];
    const tokens = 144;
    const q = randomArray(tokens * width, 31);
    const k = randomArray(tokens * width, 32);
    const v = randomArray(tokens * width, 33);
    const cu = cuSeqLensOf(lengths);
    const full = attention(q, k, v, cu, numHeads, headDim);
    const onlyQuery = Int32Array.from([0, 8, 77, 0]);
    const partial = attention(q, k, v, cu, numHeads, headDim, onlyQuery);
    for (let s = 0; s < lengths.length; s++) {
      for (let t = 0; t < lengths[s]; t++) {
        const row = (cu[s] + t) * width;
        const expected = t === onlyQuery[s] ? full.subarray(row, row + width) : new Float32Array(width);
        assert.deepEqual(partial.subarray(row, row + width), expected, `sequence ${s} token ${t}`);
      }
    }
    assert.throws(() => attention(q, k, v, cu, numHeads, headDim, Int32Array.from([1, 0, 0, 0])), /only_query\[0\] = 1 is outside/);
  });

  test('sliding window: alone = inside a mixed batch, onlyQuery rows, and a window past every sequence = no window (bitwise)', () => {
    const [numHeads, headDim, window] = [2, 16, 20];
    const width = numHeads * headDim;
    const lengths = [300, 1, 45, 130];
    const tokens = 476;
    const q = randomArray(tokens * width, 41, 2);
    const k = randomArray(tokens * width, 42, 2);
    const v = randomArray(tokens * width, 43);
    const cu = cuSeqLensOf(lengths);
    const batched = attention(q, k, v, cu, numHeads, headDim, undefined, undefined, window);
    let start = 0;
    for (const len of lengths) {
      const slice = (a: Float32Array) => a.slice(start * width, (start + len) * width);
      const alone = attention(slice(q), slice(k), slice(v), cuSeqLensOf([len]), numHeads, headDim, undefined, undefined, window);
      assert.deepEqual(alone, batched.subarray(start * width, (start + len) * width), `sequence of ${len}`);
      start += len;
    }
    const onlyQuery = Int32Array.from([150, 0, 44, 3]);
    const partial = attention(q, k, v, cu, numHeads, headDim, onlyQuery, undefined, window);
    for (let s = 0; s < lengths.length; s++) {
      const row = (cu[s] + onlyQuery[s]) * width;
      assert.deepEqual(partial.subarray(row, row + width), batched.subarray(row, row + width), `sequence ${s}, query ${onlyQuery[s]}`);
    }
    assert.deepEqual(attention(q, k, v, cu, numHeads, headDim, undefined, undefined, 300), attention(q, k, v, cu, numHeads, headDim));
    assert.throws(() => attention(q, k, v, cu, numHeads, headDim, undefined, undefined, -1), RangeError);
  });

  test('sliding window skips the key tiles outside it: O(n w) work, not O(n^2)', () => {
    // One 4096-token sequence: full attention visits 4096 keys per query, window 64 at most 129 + a tile either side
    // (~3% of the work). Asserting only a 6x speed-up leaves room for a busy machine, and fails if every tile is
    // still visited (then the two cost the same, masking aside).
    const [numHeads, headDim, tokens] = [1, 32, 4096];
    const q = randomArray(tokens * headDim, 51);
    const k = randomArray(tokens * headDim, 52);
    const v = randomArray(tokens * headDim, 53);
    const cu = cuSeqLensOf([tokens]);
    const time = (window: number) => {
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const start = performance.now();
        attention(q, k, v, cu, numHeads, headDim, undefined, undefined, window);
        best = Math.min(best, performance.now() - start);
      }
      return best;
    };
    const [windowed, full] = [time(64), time(0)];
    assert.ok(windowed * 6 < full, `window 64: ${windowed.toFixed(2)} ms, full: ${full.toFixed(2)} ms`);
  });

  test('malformed cuSeqLens are RangeErrors', () => {
    const x = new Float32Array(4 * 8);
    assert.throws(() => attention(x, x, x, Int32Array.from([0, 3]), 2, 4), /ends at 3 but there are 4 tokens/);
    assert.throws(() => attention(x, x, x, Int32Array.from([0, 3, 2, 4]), 2, 4), /non-decreasing/);
    assert.throws(() => attention(x, x, x, Int32Array.from([1, 4]), 2, 4), /must be 0/);
    assert.throws(() => attention(x, x, new Float32Array(8), Int32Array.from([0, 4]), 2, 4), RangeError);
    assert.throws(() => attention(new Float32Array(7), x, x, Int32Array.from([0, 4]), 2, 4), RangeError);
  });

  test('pagedAttention: block ids, table lengths and cached counts are checked before anything is read', () => {
    const base = {
      q: new Float32Array(2 * 16),
      kCache: new Float32Array(4 * 2 * 16),
      vCache: new Float32Array(4 * 2 * 16),
      numBlocks: 4,
      blockSize: 2,
      numHeads: 1,
      numKvHeads: 1,
      headDim: 16,
      cuSeqLens: Int32Array.of(0, 2),
      numCachedTokens: Int32Array.of(0),
      blockTables: [Int32Array.of(1)],
    };
    assert.equal(pagedAttention(base).length, 32);
    assert.throws(() => pagedAttention({ ...base, blockTables: [Int32Array.of(4)] }), /outside \[1, 4\)/);
    assert.throws(() => pagedAttention({ ...base, blockTables: [Int32Array.of(0)] }), /outside \[1, 4\)/);
    assert.throws(() => pagedAttention({ ...base, blockTables: [Int32Array.of(-7)] }), /outside \[1, 4\)/);
    assert.throws(() => pagedAttention({ ...base, numCachedTokens: Int32Array.of(1) }), /needs 2/);
    assert.throws(() => pagedAttention({ ...base, numCachedTokens: Int32Array.of(-1) }), /negative/);
    assert.throws(
      () => pagedAttention({ ...base, numHeads: 3, numKvHeads: 2, q: new Float32Array(2 * 48), kCache: new Float32Array(256), vCache: new Float32Array(256) }),
      /multiple/,
    );
    assert.throws(() => pagedAttention({ ...base, kCache: new Float32Array(10) }), RangeError);
  });
});
