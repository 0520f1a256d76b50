// WebGPU decoder kernels (rms_norm, rope, swiglu, kv_write + paged_attention) against the float64 reference decoder
// ops (src/backends/reference/decoder_ops.ts), on odd shapes. Tolerances are written next to each check, with the
// measured worst error printed as a diagnostic.
import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import * as ref from '../../src/backends/reference/decoder_ops.js';
import { WebGpuContext } from '../../src/backends/webgpu/device.js';
import { PipelineCache } from '../../src/backends/webgpu/pipeline_cache.js';
import { WebGpuDecoderOps } from '../../src/backends/webgpu/qwen3_ops.js';
import { cuSeqLensOf, maxAbs, maxAbsError, seededValues, webGpuProbe } from './webgpu_support.js';
import { missingCapability } from '../helpers/required_capability.js';

// RMSNorm outputs are O(weight): an f32 sum of squares over <= 64 values and inverseSqrt give a few ulps of O(1)
// values (measured ~2e-7); 2e-6 absolute catches a wrong eps placement, column or a missing 1/COLS.
const RMS_NORM_TOLERANCE = 2e-6;
// RoPE: the angle position * inv_freq is formed in f32 (relative error <= 2^-23 after rounding inv_freq and the
// product), so the error grows with the position: |error| <= max|x| * (2e-6 + position * 2.4e-7). At position 32767
// that allows ~8e-3 * max|x|; at positions < 100, ~2.6e-5. Measured errors are printed.
const ROPE_BASE_TOLERANCE = 2e-6;
const ROPE_PER_POSITION = 2.4e-7;
// SwiGLU: f32 exp and one division: a few ulps of max(1, |silu(g) u|).
const SWIGLU_TOLERANCE = 1e-6;
// Attention: f32 dot products over d <= 16 and an online softmax over <= 17 keys; outputs are convex combinations of
// values in [-1, 1]: measured ~1e-7, bound 2e-6.
const ATTENTION_TOLERANCE = 2e-6;

const probe = await webGpuProbe();
if (!probe.available) {
  missingCapability('webgpu', `no WebGPU adapter: ${probe.reason}`);
} else {
  describe('webgpu Qwen3 decoder kernels', () => {
    let ctx: WebGpuContext;
    let ops: WebGpuDecoderOps;
    before(async () => {
      ctx = await WebGpuContext.open();
      ops = new WebGpuDecoderOps(ctx, new PipelineCache(ctx));
    });
    after(() => ctx?.destroy());

    it('rms_norm matches the reference over hidden rows and per-head rows', async (t) => {
      const shapes: [number, number][] = [
        [1, 1],
        [5, 37],
        [3, 64],
        [7 * 3, 16], // q_norm over 7 tokens x 3 heads of 16
        [2, 200], // more columns than the 128 invocations
      ];
      for (const [rows, cols] of shapes) {
        const x = seededValues(rows * cols, rows * 31 + cols, 1.5);
        const weight = seededValues(cols, cols + 7, 0.4, 1);
        const got = await ops.rmsNorm(x, rows, cols, weight, 1e-6);
        const want = ref.rmsNorm(x, rows, cols, weight, 1e-6);
        const error = maxAbsError(got, want);
        t.diagnostic(`${rows}x${cols}: max abs error ${error.toExponential(2)}`);
        assert.ok(error <= RMS_NORM_TOLERANCE, `${rows}x${cols}: ${error}`);
      }
    });

    it('rope matches the reference (rotate-half) at small and large positions, two thetas', async (t) => {
      const cases: { numHeads: number; headDim: number; theta: number; positions: number[] }[] = [
        { numHeads: 3, headDim: 16, theta: 1_000_000, positions: [0, 1, 2, 5, 13, 47, 99] },
        { numHeads: 1, headDim: 10, theta: 10_000, positions: [3, 0, 8] },
        { numHeads: 2, headDim: 16, theta: 1_000_000, positions: [1000, 4095, 32767, 40959] },
      ];
      for (const { numHeads, headDim, theta, positions } of cases) {
        const width = numHeads * headDim;
        const x = seededValues(positions.length * width, width + positions.length, 1);
        const got = await ops.rotaryEmbedding(x, positions, numHeads, headDim, theta);
        const want = ref.applyRotaryEmbedding(x, positions, numHeads, headDim, theta);
        const scale = maxAbs(x);
        let worstRatio = 0;
        positions.forEach((position, row) => {
          const error = maxAbsError(got.subarray(row * width, (row + 1) * width), want.subarray(row * width, (row + 1) * width));
          const bound = scale * (ROPE_BASE_TOLERANCE + position * ROPE_PER_POSITION);
          worstRatio = Math.max(worstRatio, error / bound);
          t.diagnostic(`heads ${numHeads} d ${headDim} theta ${theta} position ${position}: error ${error.toExponential(2)} (bound ${bound.toExponential(2)})`);
          assert.ok(error <= bound, `position ${position}: ${error} > ${bound}`);
        });
        t.diagnostic(`worst error / bound ${worstRatio.toFixed(3)}`);
      }
    });

    it('swiglu matches silu(gate) * up (count not a workgroup multiple, large |gate|)', async (t) => {
      const [numTokens, intermediate] = [5, 37];
      const gate = seededValues(numTokens * intermediate, 1, 12);
      gate[0] = -100; // exp overflow: the SiLU limit is -0
      gate[1] = 100;
      const up = seededValues(numTokens * intermediate, 2, 2);
      const got = await ops.swiGlu(gate, up, numTokens, intermediate);
      const want = ref.swiGlu(gate, up);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
      t.diagnostic(`max error / max(1, |y|) = ${worst.toExponential(2)}`);
      assert.ok(worst <= SWIGLU_TOLERANCE, `${worst}`);
    });

    it('paged_attention, one-shot: causal GQA over whole sequences equals causalAttention', async (t) => {
      for (const [numHeads, numKvHeads, headDim] of [
        [4, 2, 16],
        [6, 2, 10],
        [3, 3, 8],
      ]) {
        const lengths = [1, 5, 17];
        const cu = cuSeqLensOf(lengths);
        const T = cu[lengths.length];
        const q = seededValues(T * numHeads * headDim, 11 + headDim, 1);
        const k = seededValues(T * numKvHeads * headDim, 12 + headDim, 1);
        const v = seededValues(T * numKvHeads * headDim, 13 + headDim, 1);
        const got = await ops.attention(q, k, v, cu, numHeads, numKvHeads, headDim);
        const want = ref.causalAttention(q, k, v, cu, numHeads, numKvHeads, headDim);
        const error = maxAbsError(got, want);
        t.diagnostic(`${numHeads}/${numKvHeads} heads x ${headDim}: ${error.toExponential(2)}`);
        assert.ok(error <= ATTENTION_TOLERANCE, `${error}`);
      }
    });

    it('kv_write + paged_attention: chunks after cached tokens, scrambled block tables, a chunk ending on a block boundary', async (t) => {
      const [numHeads, numKvHeads, headDim, blockSize, numBlocks] = [4, 2, 16, 3, 12];
      const kvWidth = numKvHeads * headDim;
      // Sequence 0: 5 new tokens, nothing cached. Sequence 1: 1 new after 4 cached. Sequence 2: 3 new after 6 cached
      // (ends exactly at 9 = 3 blocks). Sequence 3: 7 new after 2 cached (a block shared with its cached slots).
      const newLengths = [5, 1, 3, 7];
      const cached = Int32Array.of(0, 4, 6, 2);
      const tables = [Int32Array.of(7, 2), Int32Array.of(5, 9), Int32Array.of(11, 1, 4), Int32Array.of(3, 6, 8)];
      const cu = cuSeqLensOf(newLengths);
      const T = cu[newLengths.length];
      const q = seededValues(T * numHeads * headDim, 21, 1);
      const k = seededValues(T * kvWidth, 22, 1);
      const v = seededValues(T * kvWidth, 23, 1);
      // The cache starts with random contents everywhere (the cached positions' K/V, and garbage elsewhere).
      const cacheKeys = seededValues(numBlocks * blockSize * kvWidth, 24, 1);
      const cacheValues = seededValues(numBlocks * blockSize * kvWidth, 25, 1);
      const got = await ops.attention(q, k, v, cu, numHeads, numKvHeads, headDim, {
        cache: { numBlocks, blockSize, keys: cacheKeys, values: cacheValues },
        blockTables: tables,
        numCachedTokens: cached,
      });
      // The reference: the same cache with the new rows written through the tables, then pagedCausalAttention.
      const keys = Float64Array.from(cacheKeys);
      const values = Float64Array.from(cacheValues);
      newLengths.forEach((length, s) => {
        for (let i = 0; i < length; i++) {
          const position = cached[s] + i;
          const row = tables[s][Math.floor(position / blockSize)] * blockSize + (position % blockSize);
          const token = cu[s] + i;
          keys.set(k.subarray(token * kvWidth, (token + 1) * kvWidth), row * kvWidth);
          values.set(v.subarray(token * kvWidth, (token + 1) * kvWidth), row * kvWidth);
        }
      });
      const cache: ref.PagedKeyValues = {
        blockSize,
        key: (block, slot) => keys.subarray((block * blockSize + slot) * kvWidth, (block * blockSize + slot + 1) * kvWidth),
        value: (block, slot) => values.subarray((block * blockSize + slot) * kvWidth, (block * blockSize + slot + 1) * kvWidth),
      };
      const want = ref.pagedCausalAttention(q, cu, cached, tables, cache, numHeads, numKvHeads, headDim);
      const error = maxAbsError(got, want);
      t.diagnostic(`paged: ${error.toExponential(2)}`);
      assert.ok(error <= ATTENTION_TOLERANCE, `${error}`);
    });
  });
}
