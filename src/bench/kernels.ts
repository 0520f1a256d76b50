// npm run bench:kernels -- [--threads N] [--tokens T] [--seconds S] [--json FILE]
// npm run bench:kernels -- --backend webgpu [...]   (WGSL kernels on the WebGPU adapter, CPU numbers beside them)
//
// GFLOP/s of each native CPU op at the shapes of a BERT layer (bge-small: hidden 384, bge-base: hidden 768; a
// batch of 32 x 128 tokens by default), and the fraction of this machine's peak, measured in the same run by a
// register-only multiply-add loop (float32 FMA, and bf16 dot products where the CPU has them). Memory-bound ops
// (LayerNorm, embeddings, pooling) also report GB/s. On a shared machine the available speed drifts, so each op's
// fraction is taken against a peak measured right before it (0.25 s); the run's first and last peaks are printed
// too. A benchmark, not a test: it asserts nothing.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadAddon } from '../backends/native/addon.js';
import { attention, biasActivation, embeddings, kernelInfo, layerNorm, linear, packLinear, peakGflops, pool, setOpThreads } from '../backends/native/ops.js';

interface Shape {
  readonly name: string;
  readonly hidden: number;
  readonly intermediate: number;
  readonly heads: number;
}

const SHAPES: readonly Shape[] = [
  { name: 'bge-small', hidden: 384, intermediate: 1536, heads: 12 },
  { name: 'bge-base', hidden: 768, intermediate: 3072, heads: 12 },
];

export interface KernelResult {
  readonly model: string;
  readonly op: string;
  readonly shape: string;
  readonly dtype: string;
  readonly ms: number;
  readonly gflops: number;
  readonly fractionOfPeak: number;
  readonly gbPerSecond?: number;
}

function randomArray(length: number, seed: number, scale = 1): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 4294967296 - 0.5) * 2 * scale;
  }
  return out;
}

/** Mean time of one call in ms: warm-up, then repeat until `seconds` have passed; best of 3 such rounds. */
function timeIt(fn: () => void, seconds: number): number {
  fn();
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    let calls = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      fn();
      calls++;
      elapsed = performance.now() - start;
    } while (elapsed < (seconds * 1000) / 3);
    best = Math.min(best, elapsed / calls);
  }
  return best;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'cpu' },
      threads: { type: 'string', default: '0' },
      tokens: { type: 'string', default: '4096' },
      'seq-len': { type: 'string', default: '128' },
      seconds: { type: 'string', default: '1' },
      json: { type: 'string' },
    },
  });
  const threads = setOpThreads(Number(values.threads));
  const seqLen = Number(values['seq-len']);
  const numSeqs = Math.max(1, Math.round(Number(values.tokens) / seqLen));
  const T = numSeqs * seqLen;
  const seconds = Number(values.seconds);
  const features = loadAddon().cpuFeatures();
  const info = kernelInfo();

  const peakF32 = peakGflops(false, 1);
  const peakBf16 = peakGflops(true, 1);
  console.log(`pooled bench:kernels  isa=${features.isa}  threads=${threads}  tokens=${T} (${numSeqs} x ${seqLen})`);
  console.log(`peak (multiply-add loop, all threads): float32 ${peakF32.toFixed(0)} GFLOP/s, bf16 dot ${peakBf16.toFixed(0)} GFLOP/s` +
    `${features.avx512bf16 ? '' : ' (no bf16 instruction: float32 loop)'}; bf16 GEMMs ${info.bf16DotProduct ? 'use vdpbf16ps' : 'widen to float32 FMAs'}`);
  const results: KernelResult[] = [];
  // The peak right now, for the op about to be timed (float32 FMAs unless the bf16 GEMM uses dot products).
  const nearbyPeak = (bf16: boolean) => peakGflops(bf16 && info.bf16DotProduct, 0.25);
  const report = (r: KernelResult) => {
    results.push(r);
    const gb = r.gbPerSecond === undefined ? '' : `  ${r.gbPerSecond.toFixed(1).padStart(6)} GB/s`;
    console.log(
      `${r.model.padEnd(10)} ${r.op.padEnd(26)} ${r.shape.padEnd(20)} ${r.dtype.padEnd(9)} ${r.ms.toFixed(3).padStart(9)} ms ` +
        `${r.gflops.toFixed(1).padStart(7)} GFLOP/s ${(100 * r.fractionOfPeak).toFixed(0).padStart(4)}% of peak${gb}`,
    );
  };

  for (const shape of SHAPES) {
    const H = shape.hidden;
    const I = shape.intermediate;
    const x = randomArray(T * H, 1);
    const mid = randomArray(T * I, 2);
    const residual = randomArray(T * H, 3);
    const gamma = randomArray(H, 4);
    const beta = randomArray(H, 5);
    const gemms: { op: string; k: number; n: number; epilogue: Parameters<typeof linear>[3] }[] = [
      { op: 'gemm qkv + bias', k: H, n: 3 * H, epilogue: { bias: randomArray(3 * H, 6) } },
      { op: 'gemm out + bias+res+LN', k: H, n: H, epilogue: { bias: randomArray(H, 7), residual, lnGamma: gamma, lnBeta: beta, lnEps: 1e-12 } },
      { op: 'gemm up + bias+GELU', k: H, n: I, epilogue: { bias: randomArray(I, 8), activation: 'gelu' } },
      { op: 'gemm down + bias+res+LN', k: I, n: H, epilogue: { bias: randomArray(H, 9), residual, lnGamma: gamma, lnBeta: beta, lnEps: 1e-12 } },
    ];
    for (const dtype of ['float32', 'bfloat16'] as const) {
      for (const g of gemms) {
        const a = g.k === H ? x : mid;
        const packed = packLinear(randomArray(g.n * g.k, g.n + g.k), g.n, g.k, dtype);
        const out = new Float32Array(T * g.n);
        const peak = nearbyPeak(dtype === 'bfloat16');
        const ms = timeIt(() => linear(a, T, packed, g.epilogue, out), seconds);
        const gflops = (2 * T * g.k * g.n) / ms / 1e6;
        report({ model: shape.name, op: g.op, shape: `${T}x${g.k} * ${g.n}x${g.k}`, dtype, ms, gflops, fractionOfPeak: gflops / peak });
      }
    }

    const headDim = H / shape.heads;
    const cu = Int32Array.from({ length: numSeqs + 1 }, (_, i) => i * seqLen);
    const q = randomArray(T * H, 10);
    const k = randomArray(T * H, 11);
    const v = randomArray(T * H, 12);
    let peak = nearbyPeak(false);
    {
      const ms = timeIt(() => attention(q, k, v, cu, shape.heads, headDim), seconds);
      // QK^T and PV: 2 * seqLen * headDim multiply-adds per query and head each.
      const gflops = (4 * T * seqLen * H) / ms / 1e6;
      report({ model: shape.name, op: 'attention (online softmax)', shape: `${numSeqs}x${seqLen}, ${shape.heads}x${headDim}`, dtype: 'float32', ms, gflops, fractionOfPeak: gflops / peak });
    }
    peak = nearbyPeak(false);
    {
      const ms = timeIt(() => layerNorm(x, T, H, gamma, beta, 1e-12, residual), seconds);
      const gflops = (8 * T * H) / ms / 1e6;
      report({ model: shape.name, op: 'layerNorm + residual', shape: `${T}x${H}`, dtype: 'float32', ms, gflops, fractionOfPeak: gflops / peak, gbPerSecond: (3 * 4 * T * H) / ms / 1e6 });
    }
    {
      const bias = randomArray(I, 13);
      const ms = timeIt(() => biasActivation(mid, T, I, bias, 'gelu'), seconds);
      // About 30 flops per erf-GELU (exp, the rational fit, one division).
      const gflops = (30 * T * I) / ms / 1e6;
      report({ model: shape.name, op: 'bias + GELU (unfused)', shape: `${T}x${I}`, dtype: 'float32', ms, gflops, fractionOfPeak: gflops / peak, gbPerSecond: (3 * 4 * T * I) / ms / 1e6 });
    }
    {
      const vocab = 30522;
      const word = randomArray(vocab * H, 14);
      const position = randomArray(512 * H, 15);
      const tokenType = randomArray(2 * H, 16);
      const tokenIds = Int32Array.from({ length: T }, (_, i) => (i * 7919) % vocab);
      const positions = Int32Array.from({ length: T }, (_, i) => i % seqLen);
      const ms = timeIt(() => embeddings({ tokenIds, positions, word, wordDType: 'F32', position, tokenType, hiddenSize: H, gamma, beta, eps: 1e-12 }), seconds);
      const gflops = (11 * T * H) / ms / 1e6;
      report({ model: shape.name, op: 'embeddings gather + LN', shape: `${T}x${H}`, dtype: 'float32', ms, gflops, fractionOfPeak: gflops / peak, gbPerSecond: (4 * 4 * T * H) / ms / 1e6 });
    }
    {
      const dims = new Int32Array(numSeqs);
      const normalize = new Uint8Array(numSeqs).fill(1);
      const ms = timeIt(() => pool(x, cu, H, 'mean', dims, normalize), seconds);
      const gflops = (T * H + 3 * numSeqs * H) / ms / 1e6;
      report({ model: shape.name, op: 'mean pool + normalize', shape: `${numSeqs}x${seqLen}x${H}`, dtype: 'float32', ms, gflops, fractionOfPeak: gflops / peak, gbPerSecond: (4 * T * H) / ms / 1e6 });
    }
  }
  const peakAfter = peakGflops(false, 1);
  console.log(`peak float32 again at the end: ${peakAfter.toFixed(0)} GFLOP/s (a large change means the machine was busy)`);
  if (values.json !== undefined) {
    void writeFile(values.json, JSON.stringify({ isa: features.isa, threads, tokens: T, peakF32, peakBf16, peakAfter, results }, null, 2));
  }
}

/** `--backend webgpu` (or `--backend=webgpu`) hands the whole command line to the WebGPU benchmark. */
function requestedBackend(argv: readonly string[]): string {
  const i = argv.indexOf('--backend');
  if (i >= 0) return argv[i + 1] ?? '';
  return argv.find((a) => a.startsWith('--backend='))?.slice('--backend='.length) ?? 'cpu';
}

const backend = requestedBackend(process.argv.slice(2));
if (backend === 'webgpu') {
  const { runWebGpuKernelBenchCli } = await import('./webgpu_kernels.js');
  process.exitCode = await runWebGpuKernelBenchCli(process.argv.slice(2));
} else if (backend !== 'cpu') {
  console.error(`bench:kernels: --backend must be cpu (default) or webgpu, got '${backend}'`);
  process.exitCode = 2;
} else {
  main();
}
