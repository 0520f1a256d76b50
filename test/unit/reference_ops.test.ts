// The reference ops against values worked out by hand or in closed form. Every tolerance is written next to its
// assertion; float64 results that involve no transcendental function are expected exactly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { erf, erfc } from '../../src/model/reference/erf.js';
import { activation, addResidual, attention, embeddings, gatedActivation, layerNorm, linear, pool, postprocess } from '../../src/model/reference/ops.js';

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what = 'value'): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i] - expected[i]);
    assert.ok(error <= tolerance, `${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (|error| ${error} > ${tolerance})`);
  }
}

function assertRelativeClose(actual: number, expected: number, relativeTolerance: number, what: string): void {
  const error = Math.abs(actual - expected) / Math.abs(expected);
  assert.ok(error <= relativeTolerance, `${what}: got ${actual}, expected ${expected} (relative error ${error} > ${relativeTolerance})`);
}

describe('erf (Cody rational approximations)', () => {
  // Reference digits (Abramowitz & Stegun table 7.1, DLMF 7.2), to 20 digits, re-derived with a 150-digit Taylor series.
  const erfTable: [number, number][] = [
    [0.1, 0.1124629160182848922],
    [0.25, 0.27632639016823693299],
    [0.5, 0.52049987781304653768],
    [1, 0.84270079294971486934],
    [1.5, 0.96610514647531072707],
    [2, 0.99532226501895273416],
    [3, 0.99997790950300141456],
  ];
  const erfcTable: [number, number][] = [
    [0.5, 0.47950012218695346232],
    [1, 0.15729920705028513066],
    [2, 0.0046777349810472658379],
    [3, 2.2090496998585441373e-5],
    [5, 1.5374597944280348502e-12],
    [10, 2.088487583762544757e-45],
  ];

  it('matches table values of erf to 1e-15 relative, odd in x', () => {
    for (const [x, expected] of erfTable) {
      assertRelativeClose(erf(x), expected, 1e-15, `erf(${x})`); // tolerance: ~4 ulp
      assert.equal(erf(-x), -erf(x), `erf is odd at ${x}`); // exact by construction
    }
  });

  it('matches table values of erfc to 2e-15 relative, even far in the tail', () => {
    for (const [x, expected] of erfcTable) assertRelativeClose(erfc(x), expected, 2e-15, `erfc(${x})`); // tolerance: ~8 ulp
    assertRelativeClose(erfc(-1), 2 - 0.15729920705028513066, 1e-15, 'erfc(-1) = 2 - erfc(1)');
  });

  it('is 2x/sqrt(pi) near 0, 0 at 0, +-1 and 0 at the extremes, NaN for NaN', () => {
    assertRelativeClose(erf(1e-10), (2 / Math.sqrt(Math.PI)) * 1e-10, 1e-15, 'erf(1e-10)'); // x^3 term is 1e-20 relative
    assert.equal(erf(0), 0);
    assert.equal(erf(30), 1);
    assert.equal(erf(-Infinity), -1);
    assert.equal(erfc(30), 0); // below the smallest double
    assert.ok(Number.isNaN(erf(NaN)));
  });

  it('erf + erfc = 1 across the interval boundaries (0.46875 and 4)', () => {
    for (const x of [0.46874, 0.46876, 3.99999, 4.00001, 0.9, 2.7]) {
      assert.ok(Math.abs(erf(x) + erfc(x) - 1) <= 2e-16, `erf + erfc at ${x}`); // tolerance: 1 ulp of 1
    }
  });
});

describe('activation', () => {
  it("'gelu' is the exact erf GELU: GELU(1) = Phi(1), GELU(-1) = -(1 - Phi(1))", () => {
    // Phi(1) = 0.841344746068542948585..., the standard normal CDF at 1.
    assertClose(activation([1, -1, 0], 'gelu'), [0.8413447460685429, -0.15865525393145705, 0], 1e-15); // tolerance: 1e-15 abs
  });

  it('tanh variants: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))', () => {
    // x = 1: tanh(0.7978845608028654 * 1.044715) = 0.6823839812165536 -> 0.5 * 1.6823839812165536.
    const expected = [0.8411919906082768, -0.15880800939172324, 1.954597694087775];
    assertClose(activation([1, -1, 2], 'gelu_new'), expected, 1e-15); // tolerance: 1e-15 abs
    assertClose(activation([1, -1, 2], 'gelu_pytorch_tanh'), expected, 1e-15); // same function upstream
  });

  it("'relu' clamps negatives to 0", () => {
    assert.deepEqual(Array.from(activation([-1, 0, 2.5], 'relu')), [0, 0, 2.5]); // exact
  });

  it('rejects an unknown kind', () => {
    assert.throws(() => activation([1], 'swish' as never), /unknown activation 'swish'/);
  });
});

describe('gatedActivation', () => {
  it('is act(activated) * multiplier elementwise, for SiLU and both GELUs', () => {
    // silu(1) = 1 / (1 + e^-1), gelu(1) = Phi(1), gelu(-1) = -Phi(-1) (values from torch.nn.functional in float64).
    assertClose(gatedActivation([1, -1, 0], [2, 3, 5], 'silu'), [1.4621171572600098, -0.8068242641099853, 0], 1e-15); // tolerance: 1e-15 abs
    assertClose(gatedActivation([1, -1, 0], [2, 3, 5], 'gelu'), [1.682689492137086, -0.47596576179437106, 0], 1e-15); // tolerance: 1e-15 abs
    const tanh = activation([1, -1], 'gelu_pytorch_tanh');
    assertClose(gatedActivation([1, -1], [2, 3], 'gelu_pytorch_tanh'), [2 * tanh[0], 3 * tanh[1]], 0);
    assertClose(gatedActivation([1, -1], [2, 3], 'gelu_new'), [2 * tanh[0], 3 * tanh[1]], 0);
  });

  it('refuses halves of different lengths and unknown activations', () => {
    assert.throws(() => gatedActivation([1, 2], [1], 'silu'), RangeError);
    assert.throws(() => gatedActivation([1], [1], 'relu' as never), /unknown gated activation 'relu'/);
  });
});

describe('linear', () => {
  it('computes x W^T + b on a 2x3 input with a [2, 3] torch weight', () => {
    const x = [1, 2, 3, 4, 5, 6]; // [[1,2,3],[4,5,6]]
    const weight = [1, 0, -1, 2, 1, 0]; // [[1,0,-1],[2,1,0]]: row o is output o
    // row 0: 1 - 3 + 0.5 = -1.5, 2 + 2 - 1 = 3; row 1: 4 - 6 + 0.5 = -1.5, 8 + 5 - 1 = 12
    assert.deepEqual(Array.from(linear(x, 2, 3, weight, [0.5, -1], 2)), [-1.5, 3, -1.5, 12]); // exact
    assert.deepEqual(Array.from(linear(x, 2, 3, weight, null, 2)), [-2, 4, -2, 13]); // exact
  });

  it('throws on inconsistent sizes instead of reading out of bounds', () => {
    assert.throws(() => linear([1, 2, 3], 1, 3, [1, 2], null, 1), /weight has 2 values, expected 3/);
    assert.throws(() => linear([1, 2, 3], 1, 3, [1, 2, 3], [1, 2], 1), /bias has 2 values, expected 1/);
    assert.throws(() => linear([1, 2], 1, 3, [1, 2, 3], null, 1), /x has 2 values, expected 3/);
  });
});

describe('layerNorm and addResidual', () => {
  it('normalizes [1, 2, 3] with the biased variance 2/3, then applies gamma and beta', () => {
    const s = Math.sqrt(1.5); // (x - 2) / sqrt(2/3) = +-sqrt(3/2)
    const out = layerNorm([1, 2, 3], 1, 3, [1, 2, 0.5], [0, 1, -1], 0);
    assertClose(out, [-s, 1, -1 + 0.5 * s], 1e-15); // tolerance: 1e-15 abs
  });

  it('puts eps inside the square root and normalizes each row independently', () => {
    const eps = 1e-5;
    const inverseStd = 1 / Math.sqrt(2 / 3 + eps);
    const out = layerNorm([1, 2, 3, 10, 10, 10], 2, 3, [1, 1, 1], [0, 0, 0], eps);
    // A constant row has zero variance: (x - mean) = 0 exactly, so the output is beta.
    assertClose(out, [-inverseStd, 0, inverseStd, 0, 0, 0], 1e-15); // tolerance: 1e-15 abs
  });

  it('adds a residual elementwise and checks lengths', () => {
    assert.deepEqual(Array.from(addResidual([1, 2], [0.5, -3])), [1.5, -1]); // exact
    assert.throws(() => addResidual([1, 2], [1]), /residual has 1 values, expected 2/);
  });
});

describe('embeddings', () => {
  // hidden 2 with gamma 1, beta 0: LayerNorm([a, b]) = [d, -d] / sqrt(d^2 + eps) with d = (a - b) / 2.
  const wordEmb = [1, 0, 0, 3, 5, 5]; // 3 tokens
  const posEmb = [0, 0, 0.5, 0]; // 2 positions
  const typeEmb = [0, 0, 0, 1]; // 2 token types
  const eps = 1e-12;
  const expectedRow = (a: number, b: number): number[] => {
    const d = (a - b) / 2;
    return [d / Math.sqrt(d * d + eps), -d / Math.sqrt(d * d + eps)];
  };

  it('sums word + position + token type rows, then applies LayerNorm', () => {
    const out = embeddings([1, 0, 2], [0, 1, 1], [0, 0, 1], wordEmb, posEmb, typeEmb, 2, [1, 1], [0, 0], eps);
    // token 0: [0,3] + [0,0] + [0,0] = [0,3]; token 1: [1,0] + [0.5,0] + [0,0] = [1.5,0];
    // token 2: [5,5] + [0.5,0] + [0,1] = [5.5,6]
    assertClose(out, [...expectedRow(0, 3), ...expectedRow(1.5, 0), ...expectedRow(5.5, 6)], 1e-15); // tolerance: 1e-15 abs
  });

  it('rejects ids outside a table', () => {
    assert.throws(
      () => embeddings([3], [0], [0], wordEmb, posEmb, typeEmb, 2, [1, 1], [0, 0], eps),
      /tokenIds\[0\] = 3 is outside the embedding table \[0, 3\)/,
    );
    assert.throws(() => embeddings([0], [2], [0], wordEmb, posEmb, typeEmb, 2, [1, 1], [0, 0], eps), /positions\[0\] = 2/);
    assert.throws(() => embeddings([0], [0], [-1], wordEmb, posEmb, typeEmb, 2, [1, 1], [0, 0], eps), /tokenTypeIds\[0\] = -1/);
  });
});

describe('attention', () => {
  it('over a single token returns v (softmax of one score is 1)', () => {
    const v = [0.3, -2, 7, 1.25];
    // 2 heads of dim 2; q and k are arbitrary.
    assert.deepEqual(Array.from(attention([1, 2, 3, 4], [5, 6, 7, 8], v, [0, 1], 2, 2)), v); // exact: 1 * v / 1
  });

  it('with equal keys gives every query the mean of v', () => {
    const q = [1, 0, 0, 1, 3, -2]; // 3 tokens, 1 head of dim 2
    const k = [2, 2, 2, 2, 2, 2];
    const v = [1, 10, 2, 20, 6, 60];
    // mean of v rows: [3, 30] for every query.
    assertClose(attention(q, k, v, [0, 3], 1, 2), [3, 30, 3, 30, 3, 30], 1e-14); // tolerance: 1e-14 abs (values ~30)
  });

  it('two tokens: weights are a sigmoid of the score difference / sqrt(headDim)', () => {
    const q = [1, 0, 0, 1];
    const k = [1, 0, 0, 2];
    const v = [1, 0, 0, 1];
    // Query 0 scores (q0.k0, q0.k1) / sqrt2 = (1, 0) / sqrt2 -> weight of token 0 = 1 / (1 + e^(-1/sqrt2)).
    // Query 1 scores (0, 2) / sqrt2 -> weight of token 0 = 1 / (1 + e^(2/sqrt2)).
    const w0 = 1 / (1 + Math.exp(-1 / Math.SQRT2));
    const w1 = 1 / (1 + Math.exp(2 / Math.SQRT2));
    assertClose(attention(q, k, v, [0, 2], 1, 2), [w0, 1 - w0, w1, 1 - w1], 1e-15); // tolerance: 1e-15 abs
  });

  it('keeps heads in their own columns and sequences apart', () => {
    // Two sequences [token 0, token 1] and [token 2]; 2 heads of dim 1.
    // Head 0 (column 0): q = [1, 1 | 9], k = [0, ln 3 | 5]: token 0 and 1 weigh (1, 3) -> v mean (1*v0 + 3*v1) / 4.
    // Head 1 (column 1): q = [0, 0 | 9]: equal scores -> plain mean.
    const q = [1, 0, 1, 0, 9, 9];
    const k = [0, 0, Math.log(3), 0, 5, 5];
    const v = [4, 8, 0, 2, 100, -100];
    const out = attention(q, k, v, [0, 2, 3], 2, 1);
    const head0 = (1 * 4 + 3 * 0) / 4;
    const head1 = (8 + 2) / 2;
    // Token 2 is alone in its sequence: it must return its own v, untouched by tokens 0 and 1.
    assertClose(out, [head0, head1, head0, head1, 100, -100], 1e-14); // tolerance: 1e-14 abs (exp(ln 3) rounding)
  });

  it('with a sliding window, equal keys give each query the mean of v over |i - j| <= window, per sequence', () => {
    // Sequences of 5 and 2 tokens, 1 head of dim 1, equal scores: window 1 averages each token's neighbours.
    const q = [1, 2, 3, 4, 5, 6, 7];
    const k = [0, 0, 0, 0, 0, 0, 0];
    const v = [1, 2, 4, 8, 16, 100, 200];
    const expected = [(1 + 2) / 2, (1 + 2 + 4) / 3, (2 + 4 + 8) / 3, (4 + 8 + 16) / 3, (8 + 16) / 2, 150, 150];
    assertClose(attention(q, k, v, [0, 5, 7], 1, 1, 1), expected, 1e-14); // tolerance: 1e-14 abs (values <= 200)
    // A window covering the sequences is full attention; 0 means no window.
    assert.deepEqual(attention(q, k, v, [0, 5, 7], 1, 1, 4), attention(q, k, v, [0, 5, 7], 1, 1));
    assert.deepEqual(attention(q, k, v, [0, 5, 7], 1, 1, 0), attention(q, k, v, [0, 5, 7], 1, 1));
    assert.throws(() => attention(q, k, v, [0, 5, 7], 1, 1, -1), /window must be a non-negative integer/);
  });

  it('rejects cuSeqLens that do not cover the tokens', () => {
    assert.throws(() => attention([1, 2], [1, 2], [1, 2], [0, 1], 1, 1), /cuSeqLens ends at 1 but there are 2 rows/);
    assert.throws(() => attention([1, 2], [1, 2], [1, 2], [0, 2, 1], 1, 1), /non-decreasing/);
  });
});

describe('pool', () => {
  // Two sequences: rows 0-1 and row 2 of a [3, 2] hidden state.
  const hidden = [1, 2, 3, 4, 5, 6];
  const cuSeqLens = [0, 2, 3];

  it("'cls' takes each sequence's first token", () => {
    assert.deepEqual(
      pool(hidden, cuSeqLens, 2, 'cls').map((row) => Array.from(row)),
      [
        [1, 2],
        [5, 6],
      ],
    ); // exact
  });

  it("'mean' averages every token of the sequence", () => {
    assert.deepEqual(
      pool(hidden, cuSeqLens, 2, 'mean').map((row) => Array.from(row)),
      [
        [2, 3],
        [5, 6],
      ],
    ); // exact
  });

  it("'last' takes each sequence's last token", () => {
    assert.deepEqual(
      pool(hidden, cuSeqLens, 2, 'last').map((row) => Array.from(row)),
      [
        [3, 4],
        [5, 6],
      ],
    ); // exact
  });

  it('refuses an empty sequence', () => {
    assert.throws(() => pool(hidden, [0, 0, 3], 2, 'mean'), /sequence 0 is empty/);
  });
});

describe('postprocess', () => {
  const row = [3, 4, 12]; // norm 13; the first two values have norm 5

  it('truncates to `dimensions` first, then L2-normalizes', () => {
    // Normalizing first would give [3/13, 4/13] (norm 5/13); the Matryoshka order gives a unit vector.
    assertClose(postprocess(row, 2, true), [3 / 5, 4 / 5], 1e-16); // tolerance: 1 ulp
    assertClose(postprocess(row, 0, true), [3 / 13, 4 / 13, 12 / 13], 1e-16); // 0 = all dimensions
    assert.deepEqual(Array.from(postprocess(row, 2, false)), [3, 4]); // exact
    assert.deepEqual(Array.from(postprocess(row, 0, false)), row); // exact
  });

  it('leaves a zero vector at zero', () => {
    assert.deepEqual(Array.from(postprocess([0, 0, 0], 0, true)), [0, 0, 0]); // exact, no NaN
  });

  it('rejects dimensions outside [0, length]', () => {
    assert.throws(() => postprocess(row, 4, true), /dimensions must be an integer in \[0, 3\]/);
    assert.throws(() => postprocess(row, -1, true), /dimensions/);
    assert.throws(() => postprocess(row, 1.5, true), /dimensions/);
  });
});
