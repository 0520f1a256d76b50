// WebGPU GEMM kernels (shaders/gemm.wgsl, shaders/gemm_residual_layernorm.wgsl) against the float64 reference ops,
// on shapes that are not tile multiples, with every epilogue, other tilings (override constants), f16 weight
// storage, and fused vs unfused compositions.
import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import * as ref from '../../src/backends/reference/ops.js';
import type { ActivationKind } from '../../src/backends/reference/ops.js';
import { WebGpuOps } from '../../src/backends/webgpu/ops.js';
import type { GemmTiling } from '../../src/backends/webgpu/kernels/gemm.js';
import { absValues, maxAbsError, maxScaledError, roundToF16, seededValues, webGpuProbe } from './webgpu_support.js';
import { missingCapability } from '../helpers/required_capability.js';

// f32 GEMM: each output is a K-term dot product summed in f32 (with fma). Its rounding error is bounded by
// about K * 2^-24 * sum_k |x_k w_k|; in practice it grows like sqrt(K). The tolerance is stated against that
// magnitude (|bias| included): 4e-7 * sum |terms| is below the worst case for every K tested (>= 8 terms) and
// far above a real indexing or tiling bug, which gives errors of order 1.
const GEMM_F32_TOLERANCE = 4e-7;
// Layer-normalized outputs are O(1) after division by the row's standard deviation: absolute error.
const LAYER_NORM_TOLERANCE = 2e-5;
// Activation on top of the GEMM adds the activation's own error (A&S erf: 1.5e-7 absolute).
const GEMM_ACTIVATION_TOLERANCE = 6e-7;

/** sum_k |x w| + |b|: the magnitude the rounding error of each output scales with. */
function termMagnitudes(x: Float32Array, numRows: number, inFeatures: number, w: Float32Array, bias: Float32Array | null, outFeatures: number): Float64Array {
  return ref.linear(absValues(x), numRows, inFeatures, absValues(w), bias === null ? null : absValues(bias), outFeatures);
}

const SHAPES: readonly [rows: number, inFeatures: number, outFeatures: number][] = [
  [1, 1, 1],
  [1, 384, 7],
  [7, 19, 33],
  [65, 129, 70],
  [130, 200, 3],
  [64, 64, 64],
];

const probe = await webGpuProbe();
if (!probe.available) {
  missingCapability('webgpu', `no WebGPU adapter: ${probe.reason}`);
} else {
  describe('webgpu gemm', () => {
    let ops: WebGpuOps;
    before(async () => {
      ops = await WebGpuOps.create();
    });
    after(async () => {
      await ops?.dispose();
    });

    it('matches the reference linear on odd shapes, with and without bias', async (t) => {
      for (const [M, K, N] of SHAPES) {
        for (const withBias of [true, false]) {
          const x = seededValues(M * K, M * 7 + K, 1);
          const w = seededValues(N * K, N * 13 + K, 0.5);
          const bias = withBias ? seededValues(N, N, 0.5) : null;
          const got = await ops.linear(x, M, K, w, bias, N);
          const want = ref.linear(x, M, K, w, bias, N);
          const error = maxScaledError(got, want, termMagnitudes(x, M, K, w, bias, N));
          t.diagnostic(`${M}x${K} * ${K}x${N} bias=${withBias}: max error / sum|terms| = ${error.toExponential(2)}`);
          assert.ok(error <= GEMM_F32_TOLERANCE, `${M}x${K}x${N} bias=${withBias}: ${error}`);
        }
      }
    });

    it('fuses each activation into the epilogue, equal to the reference linear then activation', async (t) => {
      const [M, K, N] = [37, 45, 70];
      const x = seededValues(M * K, 1, 1);
      const w = seededValues(N * K, 2, 0.6);
      const bias = seededValues(N, 3, 0.5);
      for (const activation of ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'] as ActivationKind[]) {
        const got = await ops.linear(x, M, K, w, bias, N, { epilogue: { kind: 'activation', activation } });
        const want = ref.activation(ref.linear(x, M, K, w, bias, N), activation);
        const error = maxScaledError(got, want, termMagnitudes(x, M, K, w, bias, N).map((m) => Math.max(m, 1)));
        t.diagnostic(`${activation}: ${error.toExponential(2)}`);
        assert.ok(error <= GEMM_ACTIVATION_TOLERANCE, `${activation}: ${error}`);
      }
    });

    it('fused bias + GELU equals gemm then the standalone activation kernel', async () => {
      const [M, K, N] = [33, 50, 65];
      const x = seededValues(M * K, 4, 1);
      const w = seededValues(N * K, 5, 0.5);
      const bias = seededValues(N, 6, 0.5);
      const fused = await ops.linear(x, M, K, w, bias, N, { epilogue: { kind: 'activation', activation: 'gelu' } });
      const unfused = await ops.activation(await ops.linear(x, M, K, w, bias, N), 'gelu');
      // Same f32 pre-activation and the same activation code: equal up to the compiler contracting differently.
      assert.ok(maxAbsError(fused, unfused) <= 1e-6, `fused vs unfused: ${maxAbsError(fused, unfused)}`);
    });

    it('adds the residual in the epilogue', async () => {
      const [M, K, N] = [19, 31, 45];
      const x = seededValues(M * K, 7, 1);
      const w = seededValues(N * K, 8, 0.5);
      const bias = seededValues(N, 9, 0.5);
      const residual = seededValues(M * N, 10, 2);
      const got = await ops.linear(x, M, K, w, bias, N, { epilogue: { kind: 'residual' }, residual });
      const want = ref.addResidual(ref.linear(x, M, K, w, bias, N), residual);
      const scale = ref.addResidual(termMagnitudes(x, M, K, w, bias, N), absValues(residual));
      assert.ok(maxScaledError(got, want, scale) <= GEMM_F32_TOLERANCE);
    });

    it('gives the same products with other tile sizes set through override constants', async (t) => {
      const tilings: GemmTiling[] = [
        { tileM: 32, tileN: 32, tileK: 8, microM: 2, microN: 2 },
        { tileM: 16, tileN: 64, tileK: 4, microM: 1, microN: 8 },
        { tileM: 128, tileN: 64, tileK: 8, microM: 8, microN: 4 },
      ];
      const [M, K, N] = [71, 43, 97];
      const x = seededValues(M * K, 11, 1);
      const w = seededValues(N * K, 12, 0.5);
      const bias = seededValues(N, 13, 0.5);
      const want = ref.linear(x, M, K, w, bias, N);
      const scale = termMagnitudes(x, M, K, w, bias, N);
      for (const tiling of tilings) {
        const got = await ops.linear(x, M, K, w, bias, N, { tiling });
        const error = maxScaledError(got, want, scale);
        t.diagnostic(`${JSON.stringify(tiling)}: ${error.toExponential(2)}`);
        assert.ok(error <= GEMM_F32_TOLERANCE, JSON.stringify(tiling));
      }
    });

    it('rejects tilings the kernel cannot run, before compiling anything', async () => {
      const x = seededValues(4, 1);
      const bad: [GemmTiling, RegExp][] = [
        [{ tileM: 64, tileN: 64, tileK: 16, microM: 16, microN: 4 }, /<= 8/],
        [{ tileM: 64, tileN: 60, tileK: 16, microM: 4, microN: 8 }, /divide/],
        [{ tileM: 128, tileN: 128, tileK: 16, microM: 2, microN: 2 }, /invocations/],
        [{ tileM: 256, tileN: 256, tileK: 64, microM: 8, microN: 8 }, /workgroup memory/],
      ];
      for (const [tiling, message] of bad) {
        await assert.rejects(ops.linear(x, 2, 2, x, null, 2, { tiling }), message, JSON.stringify(tiling));
      }
    });

    it('stores weights as f16 and accumulates in f32 (when shader-f16 exists)', async (t) => {
      if (!ops.ctx.features.shaderF16) {
        t.skip(`adapter ${ops.ctx.adapterName} has no shader-f16`);
        return;
      }
      const [M, K, N] = [23, 77, 41];
      const x = seededValues(M * K, 14, 1);
      const w = seededValues(N * K, 15, 0.5);
      const bias = seededValues(N, 16, 0.5);
      const got = await ops.linear(x, M, K, w, bias, N, { weightType: 'f16' });
      // Against the reference on the f16-rounded weights: only the f32 accumulation error remains.
      const wHalf = roundToF16(w);
      const exact = maxScaledError(got, ref.linear(x, M, K, wHalf, bias, N), termMagnitudes(x, M, K, wHalf, bias, N));
      assert.ok(exact <= GEMM_F32_TOLERANCE, `vs f16-rounded weights: ${exact}`);
      // Against the f32 weights: f16 rounding (relative 2^-11 per weight) dominates.
      const storageError = maxScaledError(got, ref.linear(x, M, K, w, bias, N), termMagnitudes(x, M, K, w, bias, N));
      t.diagnostic(`f16 storage vs f32 weights: ${storageError.toExponential(2)} of sum|terms|`);
      assert.ok(storageError <= 2 ** -11, `vs f32 weights: ${storageError}`);
    });
  });

  describe('webgpu gemm_residual_layernorm', () => {
    let ops: WebGpuOps;
    before(async () => {
      ops = await WebGpuOps.create();
    });
    after(async () => {
      await ops?.dispose();
    });

    function inputs(M: number, K: number, N: number, seed: number, residualOffset = 0) {
      return {
        x: seededValues(M * K, seed, 1),
        w: seededValues(N * K, seed + 1, 0.5),
        bias: seededValues(N, seed + 2, 0.5),
        residual: seededValues(M * N, seed + 3, 1, residualOffset),
        gamma: seededValues(N, seed + 4, 0.3, 1),
        beta: seededValues(N, seed + 5, 0.3),
      };
    }

    it('matches reference linear + residual + LayerNorm on odd shapes', async (t) => {
      const shapes: [number, number, number][] = [
        [1, 1, 1],
        [1, 384, 64],
        [17, 45, 70],
        [40, 130, 384],
        [33, 64, 129],
      ];
      for (const [M, K, N] of shapes) {
        const { x, w, bias, residual, gamma, beta } = inputs(M, K, N, M + K + N);
        const got = await ops.linearResidualLayerNorm(x, M, K, w, bias, N, residual, gamma, beta, 1e-12);
        const want = ref.layerNorm(ref.addResidual(ref.linear(x, M, K, w, bias, N), residual), M, N, gamma, beta, 1e-12);
        const error = maxAbsError(got, want);
        t.diagnostic(`${M}x${K}x${N}: max abs error ${error.toExponential(2)}`);
        assert.ok(error <= LAYER_NORM_TOLERANCE, `${M}x${K}x${N}: ${error}`);
      }
    });

    it('computes the variance in two passes (a large common offset does not cancel it away)', async () => {
      const [M, K, N] = [9, 20, 96];
      // Rows near 300 with spread ~1: E[x^2] - E[x]^2 in f32 would lose about 17 of 24 bits here.
      const { x, w, bias, residual, gamma, beta } = inputs(M, K, N, 50, 300);
      const got = await ops.linearResidualLayerNorm(x, M, K, w, bias, N, residual, gamma, beta, 1e-5);
      const want = ref.layerNorm(ref.addResidual(ref.linear(x, M, K, w, bias, N), residual), M, N, gamma, beta, 1e-5);
      // The inputs themselves carry f32 rounding of 300 * 2^-24 ~ 2e-5 before normalization by std ~ 1.
      assert.ok(maxAbsError(got, want) <= 1e-4, `offset rows: ${maxAbsError(got, want)}`);
    });

    it('fused equals the unfused composition (gemm with residual epilogue, then layer_norm)', async () => {
      const [M, K, N] = [29, 96, 200];
      const { x, w, bias, residual, gamma, beta } = inputs(M, K, N, 60);
      const fused = await ops.linearResidualLayerNorm(x, M, K, w, bias, N, residual, gamma, beta, 1e-12);
      const preNorm = await ops.linear(x, M, K, w, bias, N, { epilogue: { kind: 'residual' }, residual });
      const unfused = await ops.layerNorm(preNorm, M, N, gamma, beta, 1e-12);
      assert.ok(maxAbsError(fused, unfused) <= LAYER_NORM_TOLERANCE, `fused vs unfused: ${maxAbsError(fused, unfused)}`);
    });

    it('works with other row-panel tilings and with f16 weights', async (t) => {
      const [M, K, N] = [21, 50, 150];
      const { x, w, bias, residual, gamma, beta } = inputs(M, K, N, 70);
      const want = ref.layerNorm(ref.addResidual(ref.linear(x, M, K, w, bias, N), residual), M, N, gamma, beta, 1e-12);
      const tiling: GemmTiling = { tileM: 8, tileN: 32, tileK: 8, microM: 1, microN: 2 };
      const tiled = await ops.linearResidualLayerNorm(x, M, K, w, bias, N, residual, gamma, beta, 1e-12, { tiling });
      assert.ok(maxAbsError(tiled, want) <= LAYER_NORM_TOLERANCE, `tiling ${JSON.stringify(tiling)}: ${maxAbsError(tiled, want)}`);
      if (!ops.ctx.features.shaderF16) {
        t.diagnostic(`f16 part not run: adapter ${ops.ctx.adapterName} has no shader-f16`);
        return;
      }
      const half = await ops.linearResidualLayerNorm(x, M, K, w, bias, N, residual, gamma, beta, 1e-12, { weightType: 'f16' });
      const wantHalf = ref.layerNorm(ref.addResidual(ref.linear(x, M, K, roundToF16(w), bias, N), residual), M, N, gamma, beta, 1e-12);
      assert.ok(maxAbsError(half, wantHalf) <= LAYER_NORM_TOLERANCE, `f16: ${maxAbsError(half, wantHalf)}`);
    });
  });
}
