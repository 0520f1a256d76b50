// WebGPU row kernels against the float64 reference: layer_norm, activation, embeddings (gather + LayerNorm, table
// on the GPU or rows gathered on the CPU, f32 or f16 tables) and pooling fused with dimensions + L2 normalize.
import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import * as ref from '../../src/backends/reference/ops.js';
import type { ActivationKind } from '../../src/backends/reference/ops.js';
import type { PoolingMode } from '../../src/model/types.js';
import { WebGpuOps } from '../../src/backends/webgpu/ops.js';
import { cuSeqLensOf, maxAbs, maxAbsError, roundToF16, seededInts, seededValues, webGpuProbe } from './webgpu_support.js';
import { missingCapability } from '../helpers/required_capability.js';

// LayerNorm outputs are O(gamma): f32 sums over the row and the division by std give a few ulps of O(1)
// values; 1e-5 absolute leaves a wide margin and catches any wrong mean, variance or column.
const LAYER_NORM_TOLERANCE = 1e-5;
// GELU uses A&S 7.1.26 for erf (|error| <= 1.5e-7), scaled by 0.5|x|; tanh GELU and relu are a few ulps.
const ACTIVATION_TOLERANCE = 2e-7;
// Pooling: CLS/LAST copy, MEAN sums up to 512 rows in f32 (error <~ 512 * 2^-24 relative to max|hidden| at
// worst, ~1e-6 in practice); the L2 norm adds a few ulps.
const POOLING_TOLERANCE = 1e-5;

const probe = await webGpuProbe();
if (!probe.available) {
  missingCapability('webgpu', `no WebGPU adapter: ${probe.reason}`);
} else {
  describe('webgpu row kernels', () => {
    let ops: WebGpuOps;
    before(async () => {
      ops = await WebGpuOps.create();
    });
    after(async () => {
      await ops?.dispose();
    });

    it('layer_norm matches the reference on odd shapes', async (t) => {
      const shapes: [number, number, number][] = [
        [1, 1, 0],
        [5, 37, 0],
        [3, 384, 0],
        // Rows around 100 with spread ~1: a one-pass E[x^2] - E[x]^2 in f32 loses ~1e-3 of the variance here.
        [2, 1000, 100],
      ];
      for (const [rows, cols, offset] of shapes) {
        const x = seededValues(rows * cols, rows + cols, 1, offset);
        const gamma = seededValues(cols, 3, 0.3, 1);
        const beta = seededValues(cols, 4, 0.3);
        const got = await ops.layerNorm(x, rows, cols, gamma, beta, 1e-12);
        const want = ref.layerNorm(x, rows, cols, gamma, beta, 1e-12);
        // With the offset, the f32 row sum (~1e5) is only good to ~ulp(1e5) = 2^-7, i.e. ~1e-5 on the mean,
        // amplified by 1 / std ~ 1.7: 1e-4 still separates two-pass from one-pass (~1e-3).
        const tolerance = offset === 0 ? LAYER_NORM_TOLERANCE : 1e-4;
        t.diagnostic(`${rows}x${cols} offset ${offset}: ${maxAbsError(got, want).toExponential(2)}`);
        assert.ok(maxAbsError(got, want) <= tolerance, `${rows}x${cols}: ${maxAbsError(got, want)}`);
      }
    });

    it('layer_norm honours eps on rows whose variance is below it', async (t) => {
      // Std ~1e-3 (variance 1e-6) with eps 1e-5: eps sets the output scale, so a dropped or misplaced eps errs by ~1.
      const [rows, cols, eps] = [3, 384, 1e-5];
      const x = seededValues(rows * cols, 21, Math.sqrt(3) * 1e-3);
      const gamma = seededValues(cols, 22, 0.3, 1);
      const beta = seededValues(cols, 23, 0.3);
      const want = ref.layerNorm(x, rows, cols, gamma, beta, eps);
      assert.ok(maxAbsError(ref.layerNorm(x, rows, cols, gamma, beta, 1e-12), want) > 0.1, 'eps changes these rows materially');
      const error = maxAbsError(await ops.layerNorm(x, rows, cols, gamma, beta, eps), want);
      t.diagnostic(`${rows}x${cols} eps ${eps}: ${error.toExponential(2)}`);
      assert.ok(error <= LAYER_NORM_TOLERANCE, `${error}`);
    });

    it('activation matches the reference for every kind (count not a workgroup multiple)', async (t) => {
      const x = Float32Array.from({ length: 1001 }, (_, i) => -12 + (24 * i) / 1000);
      for (const kind of ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'] as ActivationKind[]) {
        const got = await ops.activation(x, kind);
        const want = ref.activation(x, kind);
        let worst = 0;
        for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(x[i])));
        t.diagnostic(`${kind}: max error / max(1, |x|) = ${worst.toExponential(2)}`);
        assert.ok(worst <= ACTIVATION_TOLERANCE, `${kind}: ${worst}`);
      }
    });

    describe('embeddings', () => {
      const hidden = 37;
      const [vocab, maxPositions, typeVocab] = [50, 20, 2];
      const numTokens = 23;
      const tokenIds = seededInts(numTokens, 1, vocab);
      const positions = seededInts(numTokens, 2, maxPositions);
      const tokenTypes = seededInts(numTokens, 3, typeVocab);
      const wordEmb = seededValues(vocab * hidden, 4, 1);
      const posEmb = seededValues(maxPositions * hidden, 5, 0.5);
      const typeEmb = seededValues(typeVocab * hidden, 6, 0.5);
      const gamma = seededValues(hidden, 7, 0.3, 1);
      const beta = seededValues(hidden, 8, 0.3);
      const args = [tokenIds, positions, tokenTypes, wordEmb, posEmb, typeEmb, hidden, gamma, beta, 1e-12] as const;
      const want = ref.embeddings(...args);

      it('gathers from the table on the GPU', async () => {
        const got = await ops.embeddings(...args);
        assert.ok(maxAbsError(got, want) <= LAYER_NORM_TOLERANCE, `${maxAbsError(got, want)}`);
      });

      it('takes word rows gathered on the CPU (tables larger than one binding)', async () => {
        const got = await ops.embeddings(...args, { pregatherWords: true });
        assert.ok(maxAbsError(got, want) <= LAYER_NORM_TOLERANCE, `${maxAbsError(got, want)}`);
      });

      it('reads f16 tables (when shader-f16 exists)', async (t) => {
        if (!ops.ctx.features.shaderF16) {
          t.skip(`adapter ${ops.ctx.adapterName} has no shader-f16`);
          return;
        }
        const [w16, p16, t16] = [roundToF16(wordEmb), roundToF16(posEmb), roundToF16(typeEmb)];
        const wantHalf = ref.embeddings(tokenIds, positions, tokenTypes, w16, p16, t16, hidden, gamma, beta, 1e-12);
        for (const pregatherWords of [false, true]) {
          const got = await ops.embeddings(...args, { weightType: 'f16', pregatherWords });
          assert.ok(maxAbsError(got, wantHalf) <= LAYER_NORM_TOLERANCE, `pregather=${pregatherWords}: ${maxAbsError(got, wantHalf)}`);
        }
      });

      it('rejects ids outside the tables before dispatching', async () => {
        await assert.rejects(ops.embeddings([vocab], [0], [0], wordEmb, posEmb, typeEmb, hidden, gamma, beta, 1e-12), /tokenIds\[0\] = 50/);
      });
    });

    describe('pooling', () => {
      const hidden = 45;
      const lengths = [1, 512, 7, 64];
      const cu = cuSeqLensOf(lengths);
      const states = seededValues(cu[lengths.length] * hidden, 11, 2);
      const dimensions = [0, 5, hidden, 16];
      const normalize = [true, true, false, true];

      for (const mode of ['cls', 'mean', 'last'] as PoolingMode[]) {
        it(`${mode}: fused pool + dimensions + normalize matches the reference pool then postprocess`, async () => {
          const got = await ops.pool(states, cu, hidden, mode, { dimensions, normalize });
          const want = ref.pool(states, cu, hidden, mode).map((row, i) => ref.postprocess(row, dimensions[i], normalize[i]));
          assert.deepEqual(got.map((row) => row.length), [hidden, 5, hidden, 16]);
          got.forEach((row, i) => {
            const scale = normalize[i] ? 1 : maxAbs(want[i]);
            assert.ok(maxAbsError(row, want[i]) <= POOLING_TOLERANCE * scale, `${mode} sequence ${i}: ${maxAbsError(row, want[i])}`);
          });
        });
      }

      it('fused normalize equals plain pooling on the GPU followed by truncate + normalize', async () => {
        const plain = await ops.pool(states, cu, hidden, 'mean');
        const fused = await ops.pool(states, cu, hidden, 'mean', { dimensions, normalize });
        fused.forEach((row, i) => {
          const unfused = ref.postprocess(plain[i], dimensions[i], normalize[i]);
          assert.ok(maxAbsError(row, unfused) <= 1e-6 * Math.max(1, maxAbs(unfused)), `sequence ${i}`);
        });
      });

      it('normalizes a zero vector to zeros (norm floored at 1e-12), not NaN', async () => {
        const [row] = await ops.pool(new Float32Array(2 * hidden), [0, 2], hidden, 'mean', { dimensions: [0], normalize: [true] });
        assert.deepEqual(Array.from(row), new Array(hidden).fill(0));
      });
    });
  });
}
