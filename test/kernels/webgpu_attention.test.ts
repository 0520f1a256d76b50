// WebGPU ragged attention (shaders/attention.wgsl) against the float64 reference: 1-token sequences, a 1 + 512
// mix, lengths that are not tile multiples, odd head sizes, other tilings, large scores (online softmax
// stability) and batch invariance.
import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import * as ref from '../../src/backends/reference/ops.js';
import type { AttentionTiling } from '../../src/backends/webgpu/kernels/attention.js';
import { WebGpuOps } from '../../src/backends/webgpu/ops.js';
import { cuSeqLensOf, maxAbs, maxAbsError, seededValues, webGpuProbe } from './webgpu_support.js';
import { missingCapability } from '../helpers/required_capability.js';

// Each output is a softmax-weighted average of v rows, so its error is relative to max |v|: f32 dot products
// over the head dimension perturb the scores by ~1e-7 relative, exp and the running rescale add a few ulps,
// and the average of up to 512 rows adds ~512 * 2^-24 at worst. 1e-5 * max|v| covers that with margin; an
// indexing or masking bug (attending across sequences) moves outputs by O(max|v|).
const ATTENTION_TOLERANCE = 1e-5;

interface Case {
  readonly lengths: readonly number[];
  readonly numHeads: number;
  readonly headDim: number;
  readonly scale?: number;
  readonly tiling?: AttentionTiling;
  /** Overrides ATTENTION_TOLERANCE where the case itself is less well conditioned. */
  readonly tolerance?: number;
}

const probe = await webGpuProbe();
if (!probe.available) {
  missingCapability('webgpu', `no WebGPU adapter: ${probe.reason}`);
} else {
  describe('webgpu attention', () => {
    let ops: WebGpuOps;
    before(async () => {
      ops = await WebGpuOps.create();
    });
    after(async () => {
      await ops?.dispose();
    });

    async function check(c: Case, seed: number): Promise<number> {
      const width = c.numHeads * c.headDim;
      const cu = cuSeqLensOf(c.lengths);
      const numTokens = cu[cu.length - 1];
      const q = seededValues(numTokens * width, seed, c.scale ?? 1);
      const k = seededValues(numTokens * width, seed + 1, c.scale ?? 1);
      const v = seededValues(numTokens * width, seed + 2, 1);
      const got = await ops.attention(q, k, v, cu, c.numHeads, c.headDim, { tiling: c.tiling });
      const want = ref.attention(q, k, v, cu, c.numHeads, c.headDim);
      return maxAbsError(got, want) / maxAbs(v);
    }

    const cases: [string, Case][] = [
      ['1-token sequences', { lengths: [1, 1, 1], numHeads: 3, headDim: 32 }],
      ['a 1-token and a 512-token sequence', { lengths: [1, 512], numHeads: 2, headDim: 16 }],
      ['lengths around the tile sizes', { lengths: [3, 31, 32, 33, 63, 64, 65, 129], numHeads: 2, headDim: 64 }],
      ['an odd head size', { lengths: [5, 70, 1], numHeads: 3, headDim: 7 }],
      ['the largest head size', { lengths: [40, 9], numHeads: 1, headDim: 128 }],
      ['small query and kv tiles', { lengths: [1, 50, 17], numHeads: 2, headDim: 24, tiling: { queryTile: 16, kvTile: 8 } }],
      ['kv tile of 64 (the maximum)', { lengths: [100, 2], numHeads: 2, headDim: 32, tiling: { queryTile: 32, kvTile: 64 } }],
      // Scores in the hundreds: exp without subtracting the running max would overflow f32. A score of ~500 carries
      // an f32 rounding error of ~500 * 2^-24 * sqrt(32) ~ 2e-4 relative weight change at worst, so this case is
      // held to 5e-5 rather than 1e-5.
      ['large scores', { lengths: [45, 80], numHeads: 2, headDim: 32, scale: 6, tolerance: 5e-5 }],
    ];
    for (const [name, c] of cases) {
      it(`matches the reference: ${name}`, async (t) => {
        const error = await check(c, name.length);
        t.diagnostic(`max error / max|v| = ${error.toExponential(2)}`);
        assert.ok(error <= (c.tolerance ?? ATTENTION_TOLERANCE), `${name}: ${error}`);
      });
    }

    it('gives a sequence the same output alone and inside a mixed batch (batch invariance)', async () => {
      const [numHeads, headDim] = [2, 32];
      const width = numHeads * headDim;
      const lengths = [7, 100, 33];
      const cu = cuSeqLensOf(lengths);
      const q = seededValues(cu[3] * width, 90, 1);
      const k = seededValues(cu[3] * width, 91, 1);
      const v = seededValues(cu[3] * width, 92, 1);
      const batched = await ops.attention(q, k, v, cu, numHeads, headDim);
      const [start, end] = [cu[1] * width, cu[2] * width];
      const alone = await ops.attention(q.subarray(start, end), k.subarray(start, end), v.subarray(start, end), [0, lengths[1]], numHeads, headDim);
      // The kernel walks a sequence's keys in the same tiles wherever the sequence sits: bit-identical.
      assert.deepEqual(alone, batched.subarray(start, end));
    });
  });
}
