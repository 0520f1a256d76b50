// Kernel microbenchmark of the WebGPU backend, with the CPU backend's numbers for the same ops and shapes in the
// same run: GFLOP/s for the GEMMs and attention, GB/s (bytes read + written, counted once) for the memory-bound
// row kernels. CPU numbers come from the native addon's op entry points (src/backends/native/ops.ts); when the
// addon cannot be loaded they come from the float64 reference ops instead, and the output says so.
//
//   npm run bench:webgpu -- [--tokens 512] [--seq-len 128] [--hidden 384] [--heads 12] [--intermediate 1536]
//                            [--iterations 20] [--weight-type f32|f16] [--adapter NAME] [--power high-performance|low-power]
//                            [--no-cpu] [--json]
// lavapipe (CPU Vulkan) is a correctness device, not a performance target: expect well under 1 GFLOP/s there.
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import * as reference from '../model/reference/ops.js';
import { WebGpuOps, type PreparedOp } from '../backends/webgpu/ops.js';
import type { WeightType } from '../backends/webgpu/shader_source.js';
import type { WebGpuDeviceOptions } from '../backends/webgpu/device.js';

export interface KernelBenchShape {
  readonly tokens: number;
  readonly seqLen: number;
  readonly hidden: number;
  readonly heads: number;
  readonly intermediate: number;
}

export interface KernelBenchOptions extends WebGpuDeviceOptions {
  readonly shape?: Partial<KernelBenchShape>;
  readonly iterations?: number;
  readonly weightType?: WeightType;
  /** Also time the CPU backend's ops (default true). */
  readonly cpu?: boolean;
  /** Receives the printed lines (default: stdout). */
  readonly print?: (line: string) => void;
}

export interface KernelBenchRow {
  readonly op: string;
  readonly shape: string;
  readonly flops: number;
  readonly bytes: number;
  readonly gpuMs: number;
  readonly cpuMs: number | null;
}

export interface KernelBenchReport {
  readonly adapter: string;
  readonly features: { readonly shaderF16: boolean; readonly subgroups: boolean };
  readonly cpuSource: string | null;
  readonly weightType: WeightType;
  readonly rows: readonly KernelBenchRow[];
}

export const DEFAULT_BENCH_SHAPE: KernelBenchShape = { tokens: 512, seqLen: 128, hidden: 384, heads: 12, intermediate: 1536 };

function values(count: number, seed: number, scale = 0.5): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

/**
 * CPU timing source: the native ops when the addon loads, else the reference ops. Each native closure allocates its
 * output once, outside the timed calls, and passes it as `out`; attention reads the fused [T, 3H] q|k|v rows as the
 * WGSL kernel and the native engine both do. (The float64 reference ops allocate; they are a fallback, not a rate.)
 */
interface CpuOps {
  readonly source: string;
  linear(
    x: Float32Array,
    m: number,
    k: number,
    w: Float32Array,
    bias: Float32Array,
    n: number,
    extra: { gelu?: boolean; residual?: Float32Array; gamma?: Float32Array; beta?: Float32Array },
  ): () => void;
  attention(q: Float32Array, k: Float32Array, v: Float32Array, cu: Int32Array, heads: number, headDim: number): () => void;
  layerNorm(x: Float32Array, rows: number, cols: number, gamma: Float32Array, beta: Float32Array): () => void;
  pool(hidden: Float32Array, cu: Int32Array, cols: number): () => void;
}

async function loadCpuOps(): Promise<CpuOps> {
  try {
    const native = await import('../backends/native/ops.js');
    const info = native.kernelInfo();
    return {
      source: `native addon (${info.opThreads} threads)`,
      linear: (x, m, k, w, bias, n, extra) => {
        const packed = native.packLinear(w, n, k, 'float32');
        const epilogue = {
          bias,
          activation: extra.gelu ? ('gelu' as const) : ('none' as const),
          residual: extra.residual ?? null,
          lnGamma: extra.gamma ?? null,
          lnBeta: extra.beta ?? null,
          lnEps: 1e-12,
        };
        const out = new Float32Array(m * n);
        return () => native.linear(x, m, packed, epilogue, out);
      },
      attention: (q, k, v, cu, heads, headDim) => {
        const width = heads * headDim;
        const numTokens = q.length / width;
        const qkv = new Float32Array(numTokens * 3 * width);
        for (let t = 0; t < numTokens; t++) {
          qkv.set(q.subarray(t * width, (t + 1) * width), t * 3 * width);
          qkv.set(k.subarray(t * width, (t + 1) * width), t * 3 * width + width);
          qkv.set(v.subarray(t * width, (t + 1) * width), t * 3 * width + 2 * width);
        }
        const out = new Float32Array(numTokens * width);
        return () => native.attentionQkv(qkv, cu, heads, headDim, undefined, out);
      },
      layerNorm: (x, rows, cols, gamma, beta) => {
        const out = new Float32Array(rows * cols);
        return () => native.layerNorm(x, rows, cols, gamma, beta, 1e-12, undefined, out);
      },
      pool: (hidden, cu, cols) => {
        const dims = new Int32Array(cu.length - 1);
        const normalize = new Uint8Array(cu.length - 1).fill(1);
        const out = new Float32Array((cu.length - 1) * cols);
        return () => native.pool(hidden, cu, cols, 'mean', dims, normalize, out);
      },
    };
  } catch (error) {
    return {
      source: `reference ops, float64 TypeScript (native addon unavailable: ${(error as Error).message.split('\n')[0]})`,
      linear: (x, m, k, w, bias, n, extra) => () => {
        let y = reference.linear(x, m, k, w, bias, n);
        if (extra.gelu) y = reference.activation(y, 'gelu');
        if (extra.residual) y = reference.layerNorm(reference.addResidual(y, extra.residual), m, n, extra.gamma!, extra.beta!, 1e-12);
      },
      attention: (q, k, v, cu, heads, headDim) => () => reference.attention(q, k, v, cu, heads, headDim),
      layerNorm: (x, rows, cols, gamma, beta) => () => reference.layerNorm(x, rows, cols, gamma, beta, 1e-12),
      pool: (hidden, cu, cols) => () => reference.pool(hidden, cu, cols, 'mean').map((row) => reference.postprocess(row, 0, true)),
    };
  }
}

function timeCpu(run: () => void, iterations: number): number {
  run(); // warm-up: page faults, thread pool start, weight packing caches
  const start = performance.now();
  for (let i = 0; i < iterations; i++) run();
  return (performance.now() - start) / iterations;
}

async function timeGpu(prepared: PreparedOp, iterations: number): Promise<number> {
  await prepared.run(1); // warm-up: lazy driver compilation happens at first dispatch on some drivers
  const start = performance.now();
  await prepared.run(iterations);
  return (performance.now() - start) / iterations;
}

export async function runWebGpuKernelBench(opts: KernelBenchOptions = {}): Promise<KernelBenchReport> {
  const given = Object.fromEntries(Object.entries(opts.shape ?? {}).filter(([, value]) => value !== undefined));
  const shape: KernelBenchShape = { ...DEFAULT_BENCH_SHAPE, ...given };
  const { tokens: T, hidden: H, heads, intermediate: I, seqLen } = shape;
  if (H % heads !== 0) throw new RangeError(`hidden ${H} is not a multiple of heads ${heads}`);
  const iterations = opts.iterations ?? 20;
  const weightType = opts.weightType ?? 'f32';
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const ops = await WebGpuOps.create(opts);
  const cpu = opts.cpu === false ? null : await loadCpuOps();
  const rows: KernelBenchRow[] = [];
  const header = `${'op'.padEnd(34)} ${'shape'.padEnd(26)} ${'webgpu ms'.padStart(10)} ${'GFLOP/s'.padStart(9)} ${'GB/s'.padStart(7)} ${'cpu ms'.padStart(10)} ${'GFLOP/s'.padStart(9)} ${'GB/s'.padStart(7)}`;
  print(
    `adapter: ${ops.ctx.adapterName} (shader-f16 ${ops.ctx.features.shaderF16 ? 'yes' : 'no'}, subgroups ${ops.ctx.features.subgroups ? 'yes' : 'no'}); weights ${weightType}`,
  );
  print(`cpu: ${cpu === null ? 'not measured (--no-cpu)' : cpu.source}`);
  print(header);

  const record = async (op: string, shapeText: string, prepared: PreparedOp, bytes: number, cpuRun: (() => void) | null): Promise<void> => {
    try {
      const gpuMs = await timeGpu(prepared, iterations);
      const cpuMs = cpuRun === null ? null : timeCpu(cpuRun, Math.max(1, Math.min(iterations, 5)));
      const row: KernelBenchRow = { op, shape: shapeText, flops: prepared.flops, bytes, gpuMs, cpuMs };
      rows.push(row);
      const rate = (amount: number, ms: number | null): string => (ms === null || amount === 0 ? '-' : (amount / ms / 1e6).toFixed(2));
      print(
        `${op.padEnd(34)} ${shapeText.padEnd(26)} ${gpuMs.toFixed(3).padStart(10)} ${rate(row.flops, gpuMs).padStart(9)} ${rate(bytes, gpuMs).padStart(7)} ` +
          `${(cpuMs === null ? '-' : cpuMs.toFixed(3)).padStart(10)} ${rate(row.flops, cpuMs).padStart(9)} ${rate(bytes, cpuMs).padStart(7)}`,
      );
    } finally {
      prepared.destroy();
    }
  };

  try {
    const x = values(T * H, 1);
    const xI = values(T * I, 2);
    const bytesPerWeight = weightType === 'f16' ? 2 : 4;
    const gemms: [string, number, number, boolean, boolean][] = [
      ['gemm qkv (bias)', 3 * H, H, false, false],
      ['gemm intermediate (bias+gelu)', I, H, true, false],
      ['gemm_residual_layernorm attn-out', H, H, false, true],
      ['gemm_residual_layernorm ffn-out', H, I, false, true],
    ];
    for (const [op, N, K, gelu, layerNorm] of gemms) {
      const input = K === H ? x : xI;
      const w = values(N * K, N + K, 0.05);
      const bias = values(N, 3);
      const residual = values(T * N, 4);
      const gamma = values(N, 5, 0.1).map((v) => v + 1);
      const beta = values(N, 6, 0.1);
      const prepared = layerNorm
        ? await ops.prepareLinearResidualLayerNorm(input, T, K, w, bias, N, residual, gamma, beta, 1e-12, { weightType })
        : await ops.prepareLinear(input, T, K, w, bias, N, { weightType, epilogue: gelu ? { kind: 'activation', activation: 'gelu' } : { kind: 'bias' } });
      const bytes = 4 * T * K + bytesPerWeight * N * K + 4 * T * N * (layerNorm ? 2 : 1);
      await record(
        op,
        `${T}x${K} * ${K}x${N}`,
        prepared,
        bytes,
        cpu?.linear(input, T, K, w, bias, N, layerNorm ? { residual, gamma, beta } : { gelu }) ?? null,
      );
    }

    const numSequences = Math.max(1, Math.floor(T / seqLen));
    const cu = Int32Array.from({ length: numSequences + 1 }, (_, i) => Math.min(i * seqLen, T));
    cu[numSequences] = T;
    const q = values(T * H, 7);
    const k = values(T * H, 8);
    const v = values(T * H, 9);
    await record(
      'attention (ragged, online softmax)',
      `${numSequences} seqs, ${T} tok, ${heads}x${H / heads}`,
      await ops.prepareAttention(q, k, v, cu, heads, H / heads),
      4 * T * H * 4,
      cpu?.attention(q, k, v, cu, heads, H / heads) ?? null,
    );
    const gamma = values(H, 10, 0.1).map((value) => value + 1);
    const beta = values(H, 11, 0.1);
    await record(
      'layer_norm',
      `${T}x${H}`,
      await ops.prepareLayerNorm(x, T, H, gamma, beta, 1e-12),
      2 * 4 * T * H,
      cpu?.layerNorm(x, T, H, gamma, beta) ?? null,
    );
    await record(
      'pooling mean + l2 normalize',
      `${numSequences} seqs, ${T}x${H}`,
      await ops.preparePool(x, cu, H, 'mean', { normalize: new Uint8Array(numSequences).fill(1) }),
      4 * T * H + 4 * numSequences * H,
      cpu?.pool(x, cu, H) ?? null,
    );
    return { adapter: ops.ctx.adapterName, features: ops.ctx.features, cpuSource: cpu?.source ?? null, weightType, rows };
  } finally {
    await ops.dispose();
  }
}

/** The command line of the WebGPU kernel benchmark (`npm run bench:kernels -- --backend webgpu [...]`). */
export async function runWebGpuKernelBenchCli(argv: string[]): Promise<number> {
  const { values: flags } = parseArgs({
    args: argv,
    options: {
      backend: { type: 'string' },
      tokens: { type: 'string' },
      'seq-len': { type: 'string' },
      hidden: { type: 'string' },
      heads: { type: 'string' },
      intermediate: { type: 'string' },
      iterations: { type: 'string' },
      'weight-type': { type: 'string' },
      adapter: { type: 'string' },
      power: { type: 'string' },
      'no-cpu': { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  if (flags.backend !== undefined && flags.backend !== 'webgpu') {
    process.stderr.write(`this benchmark measures --backend webgpu (with CPU numbers alongside), not '${flags.backend}'\n`);
    return 2;
  }
  const int = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`--${name} needs a positive integer, got '${text}'`);
    return value;
  };
  const weightType = flags['weight-type'];
  if (weightType !== undefined && weightType !== 'f32' && weightType !== 'f16') throw new RangeError(`--weight-type must be f32 or f16, got '${weightType}'`);
  const power = flags.power;
  if (power !== undefined && power !== 'high-performance' && power !== 'low-power') throw new RangeError(`--power must be high-performance or low-power`);
  const report = await runWebGpuKernelBench({
    shape: {
      tokens: int('tokens', flags.tokens),
      seqLen: int('seq-len', flags['seq-len']),
      hidden: int('hidden', flags.hidden),
      heads: int('heads', flags.heads),
      intermediate: int('intermediate', flags.intermediate),
    },
    iterations: int('iterations', flags.iterations),
    weightType,
    adapterName: flags.adapter,
    powerPreference: power,
    cpu: !flags['no-cpu'],
    print: flags.json ? () => undefined : undefined,
  });
  if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runWebGpuKernelBenchCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
