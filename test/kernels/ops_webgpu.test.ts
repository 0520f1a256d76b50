// The WebGPU kernels (shaders/*.wgsl) against the op-case table (op_cases.ts), then the properties of the WebGPU ops
// that are not op cases: fused = unfused compositions, tilings the GEMM refuses, embeddings with word rows gathered on
// the CPU and f16 tables, and batch invariance of attention.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import * as ref from '../../src/model/reference/ops.js';
import type { GemmTiling } from '../../src/backends/webgpu/kernels/gemm.js';
import { WebGpuOps } from '../../src/backends/webgpu/ops.js';
import { WebGpuDecoderOps } from '../../src/backends/webgpu/qwen3_ops.js';
import { flatten, webGpuEmbeddingsInput, type AnyOpCase, type GemmInput, type OpBackend, type OpInputs } from './op_cases.js';
import { defineOpCaseTests } from './op_runner.js';
import { cuSeqLensOf, roundToF16, seededValues, webGpuProbe } from './webgpu_support.js';
import { maxAbs, maxAbsError } from '../helpers/metrics.js';
import { missingCapability } from '../helpers/required_capability.js';

const probe = await webGpuProbe();
if (!probe.available) {
  missingCapability('webgpu', `no WebGPU adapter: ${probe.reason}`);
} else {
  const ops = await WebGpuOps.create();
  const decoder = new WebGpuDecoderOps(ops.ctx, ops.pipelines);
  after(async () => {
    await ops.dispose();
  });
  const shaderF16 = ops.ctx.features.shaderF16;

  async function gemm(input: GemmInput): Promise<Float32Array> {
    const { x, m, k, w, n, bias, epilogue, tiling } = input;
    const weightType = input.dtype === 'float16' ? 'f16' : 'f32';
    switch (epilogue.kind) {
      case 'none':
        return ops.linear(x, m, k, w, bias, n, { weightType, tiling });
      case 'activation':
        return ops.linear(x, m, k, w, bias, n, { weightType, tiling, epilogue: { kind: 'activation', activation: epilogue.activation } });
      case 'residual':
        return ops.linear(x, m, k, w, bias, n, { weightType, tiling, epilogue: { kind: 'residual' }, residual: epilogue.residual });
      case 'residual_layernorm':
        // The row-panel kernel always adds a bias.
        return ops.linearResidualLayerNorm(x, m, k, w, bias ?? new Float32Array(n), n, epilogue.residual, epilogue.gamma, epilogue.beta, epilogue.eps, {
          weightType,
          tiling,
        });
    }
  }

  const RUNNERS: { [O in keyof OpInputs]?: (input: OpInputs[O]) => Promise<Float32Array> } = {
    gemm,
    layer_norm: (i) => ops.layerNorm(i.x, i.rows, i.cols, i.gamma, i.beta, i.eps),
    bias_activation: (i) => ops.activation(i.x, i.activation as Exclude<typeof i.activation, 'none'>),
    embeddings: (i) => ops.embeddings(i.tokenIds, i.positions, i.tokenTypeIds, i.word, i.position, i.tokenType, i.hidden, i.gamma, i.beta, i.eps),
    attention: (i) => ops.attention(i.q, i.k, i.v, i.cuSeqLens, i.numHeads, i.headDim, { tiling: i.tiling, window: i.window }),
    pooling: async (i) =>
      flatten(await ops.pool(i.states, i.cuSeqLens, i.hidden, i.mode, { dimensions: i.dimensions, normalize: i.normalize }), (n) => new Float32Array(n)),
    // Per-head norms are rows of their own here.
    rms_norm: (i) => decoder.rmsNorm(i.x, i.rows * i.groups, i.cols, i.weight, i.eps),
    rope: (i) => decoder.rotaryEmbedding(i.x, i.positions, i.numHeads, i.headDim, i.theta, i.inverseFrequencyScale),
    gated_activation: (i) => decoder.gatedActivation(i.activated, i.multiplier, i.rows, i.cols, i.activation, i.activatedHalf),
    causal_attention: (i) => decoder.attention(i.q, i.k, i.v, i.cuSeqLens, i.numHeads, i.numKvHeads, i.headDim),
    paged_attention: (i) =>
      decoder.attention(i.q, i.k, i.v, i.cuSeqLens, i.numHeads, i.numKvHeads, i.headDim, {
        cache: { numBlocks: i.numBlocks, blockSize: i.blockSize, keys: i.cacheKeys, values: i.cacheValues },
        blockTables: i.blockTables,
        numCachedTokens: i.numCachedTokens,
      }),
  };

  const webgpu: OpBackend = {
    name: 'webgpu',
    traits: { bf16RoundsActivations: false },
    unsupported: (c: AnyOpCase) => {
      if (RUNNERS[c.op] === undefined) return `no WGSL kernel for ${c.op} (the residual is added in the GEMM epilogue)`;
      const input = c.input();
      if (c.op === 'gemm') {
        const { dtype } = input as GemmInput;
        if (dtype === 'bfloat16') return 'WGSL has no bfloat16 type: the WebGPU GEMM stores weights as f32 or f16';
        if (dtype === 'int8') return 'the WebGPU backend has no int8 GEMM (int8 quantization is a native-backend feature)';
        if (dtype === 'float16' && !shaderF16) return `adapter ${ops.ctx.adapterName} has no shader-f16`;
      }
      if (c.op === 'bias_activation') {
        const { bias, activation } = input as OpInputs['bias_activation'];
        if (bias !== null) return 'no standalone bias + activation kernel (the bias is added in the GEMM epilogue)';
        if (activation === 'none') return 'no identity activation kernel';
      }
      return null;
    },
    run: (c, input) => (RUNNERS[c.op] as (i: typeof input) => Promise<Float32Array>)(input),
  };

  defineOpCaseTests(webgpu);

  describe('webgpu ops, beyond the op cases', () => {
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

    it('fused gated activation equals the standalone activation kernel, then the product (either half order)', async () => {
      const [rows, cols] = [7, 70];
      const activated = seededValues(rows * cols, 81, 6);
      const multiplier = seededValues(rows * cols, 82, 2);
      for (const activatedHalf of ['first', 'second'] as const) {
        for (const activation of ['gelu', 'gelu_pytorch_tanh'] as const) {
          const fused = await decoder.gatedActivation(activated, multiplier, rows, cols, activation, activatedHalf);
          const act = await ops.activation(activated, activation);
          const unfused = act.map((value, i) => Math.fround(value * multiplier[i]));
          // The same fragment code on the same f32 values: equal up to the compiler contracting differently.
          const error = maxAbsError(fused, unfused);
          assert.ok(error <= 1e-6, `${activation}, activated half ${activatedHalf}: fused vs unfused ${error}`);
        }
      }
    });

    it('rope with a row stride rotates q and k inside fused q | k | v rows, as rope on each alone (v untouched)', async () => {
      const [numTokens, numHeads, headDim] = [37, 3, 16];
      const width = numHeads * headDim;
      const positions = Int32Array.from({ length: numTokens }, (_, t) => (t * 7) % 300);
      const qkv = seededValues(numTokens * 3 * width, 91, 1);
      const fused = await decoder.rotaryEmbedding(qkv, positions, 2 * numHeads, headDim, 10000, 1, 3 * width);
      const part = (offset: number) =>
        Float32Array.from({ length: numTokens * width }, (_, i) => qkv[Math.floor(i / width) * 3 * width + offset + (i % width)]);
      const [q, k] = await Promise.all([0, width].map((offset) => decoder.rotaryEmbedding(part(offset), positions, numHeads, headDim, 10000)));
      for (let t = 0; t < numTokens; t++) {
        const row = fused.subarray(t * 3 * width, (t + 1) * 3 * width);
        // The same kernel on the same values: bitwise equal.
        assert.deepEqual(row.subarray(0, width), q.subarray(t * width, (t + 1) * width), `q of token ${t}`);
        assert.deepEqual(row.subarray(width, 2 * width), k.subarray(t * width, (t + 1) * width), `k of token ${t}`);
        assert.deepEqual(row.subarray(2 * width), qkv.subarray(t * 3 * width + 2 * width, (t + 1) * 3 * width), `v of token ${t}`);
      }
    });

    it('fused gemm_residual_layernorm equals the unfused composition (gemm with residual epilogue, then layer_norm)', async () => {
      const [M, K, N] = [29, 96, 200];
      const x = seededValues(M * K, 60, 1);
      const w = seededValues(N * K, 61, 0.5);
      const bias = seededValues(N, 62, 0.5);
      const residual = seededValues(M * N, 63, 1);
      const gamma = seededValues(N, 64, 0.3, 1);
      const beta = seededValues(N, 65, 0.3);
      const fused = await ops.linearResidualLayerNorm(x, M, K, w, bias, N, residual, gamma, beta, 1e-12);
      const preNorm = await ops.linear(x, M, K, w, bias, N, { epilogue: { kind: 'residual' }, residual });
      const unfused = await ops.layerNorm(preNorm, M, N, gamma, beta, 1e-12);
      // WGSL layer-normalized outputs are O(1): the GEMM LayerNorm tolerance, 2e-5 absolute.
      assert.ok(maxAbsError(fused, unfused) <= 2e-5, `fused vs unfused: ${maxAbsError(fused, unfused)}`);
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

    describe('embeddings', () => {
      const i = webGpuEmbeddingsInput();
      const args = [i.tokenIds, i.positions, i.tokenTypeIds, i.word, i.position, i.tokenType, i.hidden, i.gamma, i.beta, i.eps] as const;
      // WGSL LayerNorm outputs are O(gamma): 1e-5 absolute (the layer_norm op's tolerance).
      const tolerance = 1e-5;

      it('takes word rows gathered on the CPU (tables larger than one binding)', async () => {
        const got = await ops.embeddings(...args, { pregatherWords: true });
        const want = ref.embeddings(...args);
        assert.ok(maxAbsError(got, want) <= tolerance, `${maxAbsError(got, want)}`);
      });

      it('reads f16 tables (when shader-f16 exists)', async (t) => {
        if (!shaderF16) {
          t.skip(`adapter ${ops.ctx.adapterName} has no shader-f16`);
          return;
        }
        const [w16, p16, t16] = [roundToF16(i.word), roundToF16(i.position), roundToF16(i.tokenType)];
        const wantHalf = ref.embeddings(i.tokenIds, i.positions, i.tokenTypeIds, w16, p16, t16, i.hidden, i.gamma, i.beta, i.eps);
        for (const pregatherWords of [false, true]) {
          const got = await ops.embeddings(...args, { weightType: 'f16', pregatherWords });
          assert.ok(maxAbsError(got, wantHalf) <= tolerance, `pregather=${pregatherWords}: ${maxAbsError(got, wantHalf)}`);
        }
      });

      it('rejects ids outside the tables before dispatching', async () => {
        await assert.rejects(ops.embeddings([i.vocab], [0], [0], i.word, i.position, i.tokenType, i.hidden, i.gamma, i.beta, i.eps), /tokenIds\[0\] = 50/);
      });
    });

    it('pooling: fused normalize equals plain pooling on the GPU followed by truncate + normalize', async () => {
      const hidden = 45;
      const cu = cuSeqLensOf([1, 512, 7, 64]);
      const states = seededValues(cu[4] * hidden, 11, 2);
      const dimensions = [0, 5, hidden, 16];
      const normalize = [true, true, false, true];
      const plain = await ops.pool(states, cu, hidden, 'mean');
      const fused = await ops.pool(states, cu, hidden, 'mean', { dimensions, normalize });
      fused.forEach((row, s) => {
        const unfused = ref.postprocess(plain[s], dimensions[s], normalize[s]);
        assert.ok(maxAbsError(row, unfused) <= 1e-6 * Math.max(1, maxAbs(unfused)), `sequence ${s}`);
      });
    });

    it('attention gives a sequence the same output alone and inside a mixed batch (batch invariance)', async () => {
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
