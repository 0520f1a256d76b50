// npm run bench:kernels -- [--threads N] [--tokens T] [--seq-len L] [--seconds S] [--stream-mib M] [--json FILE]
// npm run bench:kernels -- --backend webgpu [...]   (WGSL kernels on the WebGPU adapter, CPU numbers beside them)
//
// Each native CPU op the BERT graph (native/engine/graphs/bert.cpp) runs per layer, called the way the engine calls
// it, at the shapes of bge-small (hidden 384) and bge-base (hidden 768), a batch of 32 x 128 tokens by default:
//   - the four GEMMs with their fused epilogues, with float32, int8 (--quantization int8) and bfloat16 weights: Q/K/V as one [3H, H] weight + bias, attention output + bias +
//     residual + LayerNorm, intermediate + bias + GELU, output + bias + residual + LayerNorm;
//   - attention reading q, k and v from the fused projection's output [T, 3H] (row stride 3H) into a [T, H] context,
//     and the last layer's CLS-only attention (one query per sequence, what CLS pooling lets the engine do);
//   - embeddings (gather + LayerNorm) and mean pooling + L2 normalize.
// Unfused LayerNorm and bias + GELU are timed too, as the baseline the GEMM epilogues replace (the engine itself does
// not call them). Every output is allocated before timing and passed in (`out`): the timed region allocates nothing.
//
// Two yardsticks, both measured in this run, on the same op pool:
//   - ops with a real flop count (GEMM, attention) report GFLOP/s and % of the multiply-add peak of a register-only
//     FMA loop (bf16 dot products for bf16 GEMMs where the GEMM uses them), measured right before each op (0.25 s)
//     since the available speed drifts on a shared machine;
//   - memory-bound ops report GB/s (compulsory bytes: each input read once, each output written once, as STREAM
//     counts) and % of the bandwidth of a STREAM triad over arrays of --stream-mib MiB each, measured right before
//     each. An op whose working set (printed) fits in the last-level cache can exceed 100%: it is then timed warm in
//     cache, as the engine often runs it, and the percentage says so rather than hiding it.
// A benchmark, not a test: it asserts nothing.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadAddon } from '../backends/native/addon.js';
import {
  attentionQkv,
  biasActivation,
  embeddings,
  kernelInfo,
  layerNorm,
  linear,
  memoryBandwidth,
  packLinear,
  peakGflops,
  pool,
  setOpThreads,
} from '../backends/native/ops.js';

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
  /** Compute-bound ops (GEMM, attention). */
  readonly gflops?: number;
  readonly fractionOfPeak?: number;
  /** Memory-bound ops: compulsory bytes per call / time, against the triad bandwidth measured before the op. */
  readonly gbPerSecond?: number;
  readonly fractionOfBandwidth?: number;
  readonly workingSetBytes?: number;
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

const MB = 1e6;

function main(): void {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'cpu' },
      threads: { type: 'string', default: '0' },
      tokens: { type: 'string', default: '4096' },
      'seq-len': { type: 'string', default: '128' },
      seconds: { type: 'string', default: '1' },
      'stream-mib': { type: 'string', default: '128' },
      json: { type: 'string' },
    },
  });
  const threads = setOpThreads(Number(values.threads));
  const seqLen = Number(values['seq-len']);
  const numSeqs = Math.max(1, Math.round(Number(values.tokens) / seqLen));
  const T = numSeqs * seqLen;
  const seconds = Number(values.seconds);
  const streamBytes = Math.round(Number(values['stream-mib']) * 2 ** 20);
  const features = loadAddon().cpuFeatures();
  const info = kernelInfo();

  const peakF32 = peakGflops(false, 1);
  const peakBf16 = peakGflops(true, 1);
  const bandwidth = memoryBandwidth(streamBytes, 1);
  console.log(`pooled bench:kernels  isa=${features.isa}  threads=${threads}  tokens=${T} (${numSeqs} x ${seqLen})`);
  console.log(
    `peak (multiply-add loop, all threads): float32 ${peakF32.toFixed(0)} GFLOP/s, bf16 dot ${peakBf16.toFixed(0)} GFLOP/s` +
      `${features.avx512bf16 ? '' : ' (no bf16 instruction: float32 loop)'}; bf16 GEMMs ${info.bf16DotProduct ? 'use vdpbf16ps' : 'widen to float32 FMAs'}; ` +
      `int8 GEMMs ${features.int8Dot ? 'use vpdpbusd (VNNI)' : 'widen to 16 bits (vpmaddwd)'}`,
  );
  console.log(`memory bandwidth (STREAM triad, 3 x ${values['stream-mib']} MiB, all threads): ${bandwidth.toFixed(1)} GB/s`);
  const results: KernelResult[] = [];
  // The peaks right now, for the op about to be timed (float32 FMAs unless the bf16 GEMM uses dot products).
  const nearbyPeak = (bf16: boolean) => peakGflops(bf16 && info.bf16DotProduct, 0.25);
  const nearbyBandwidth = () => memoryBandwidth(streamBytes, 0.25);
  const prefix = (r: KernelResult) => `${r.model.padEnd(10)} ${r.op.padEnd(30)} ${r.shape.padEnd(22)} ${r.dtype.padEnd(9)} ${r.ms.toFixed(3).padStart(9)} ms `;
  const computeBound = (r: Omit<KernelResult, 'gflops' | 'fractionOfPeak'>, flops: number, peak: number) => {
    const gflops = flops / r.ms / 1e6;
    const full: KernelResult = { ...r, gflops, fractionOfPeak: gflops / peak };
    results.push(full);
    const unit = r.dtype === 'int8' ? 'GOP/s  ' : 'GFLOP/s';
    console.log(`${prefix(full)}${gflops.toFixed(1).padStart(7)} ${unit} ${((100 * gflops) / peak).toFixed(0).padStart(4)}% of FMA peak`);
  };
  const memoryBound = (r: Omit<KernelResult, 'gbPerSecond' | 'fractionOfBandwidth' | 'workingSetBytes'>, bytes: number, workingSet: number, bw: number) => {
    const gbPerSecond = bytes / r.ms / 1e6;
    const full: KernelResult = { ...r, gbPerSecond, fractionOfBandwidth: gbPerSecond / bw, workingSetBytes: workingSet };
    results.push(full);
    console.log(
      `${prefix(full)}${gbPerSecond.toFixed(1).padStart(7)} GB/s    ${((100 * gbPerSecond) / bw).toFixed(0).padStart(4)}% of triad bandwidth (working set ${(workingSet / MB).toFixed(1)} MB)`,
    );
  };

  for (const shape of SHAPES) {
    const H = shape.hidden;
    const I = shape.intermediate;
    const headDim = H / shape.heads;
    // The engine's activation buffers (BertEngine::Forward): hidden x [T, H], attention output [T, H], fused
    // qkv [T, 3H], context [T, H], intermediate [T, I].
    const x = randomArray(T * H, 1);
    const attentionOut = randomArray(T * H, 2);
    const qkv = randomArray(T * 3 * H, 3, 0.5);
    const context = randomArray(T * H, 4);
    const intermediate = randomArray(T * I, 5);
    const output = new Float32Array(T * H);
    const gamma = randomArray(H, 6);
    const beta = randomArray(H, 7);
    const gemms: { op: string; a: Float32Array; k: number; n: number; out: Float32Array; epilogue: Parameters<typeof linear>[3] }[] = [
      { op: 'gemm qkv + bias', a: x, k: H, n: 3 * H, out: qkv, epilogue: { bias: randomArray(3 * H, 8) } },
      {
        op: 'gemm attn-out + bias+res+LN',
        a: context,
        k: H,
        n: H,
        out: attentionOut,
        epilogue: { bias: randomArray(H, 9), residual: x, lnGamma: gamma, lnBeta: beta, lnEps: 1e-12 },
      },
      { op: 'gemm up + bias+GELU', a: attentionOut, k: H, n: I, out: intermediate, epilogue: { bias: randomArray(I, 10), activation: 'gelu' } },
      {
        op: 'gemm down + bias+res+LN',
        a: intermediate,
        k: I,
        n: H,
        out: output,
        epilogue: { bias: randomArray(H, 11), residual: attentionOut, lnGamma: gamma, lnBeta: beta, lnEps: 1e-12 },
      },
    ];
    // Per GEMM, every weight type back to back (float32, int8, bfloat16), so the int8 / float32 ratio compares two
    // timings taken seconds apart on the same shapes and inputs. int8 counts 2 operations per multiply-add as well
    // (GOP/s) and is held to the float32 FMA peak too: a VNNI instruction does 4 multiply-adds per 32-bit lane where an
    // FMA does 1, so int8 can pass 100% of that peak.
    for (const g of gemms) {
      const weights = randomArray(g.n * g.k, g.n + g.k, 0.05);
      let float32Ms = 0;
      for (const dtype of ['float32', 'int8', 'bfloat16'] as const) {
        const packed = packLinear(weights, g.n, g.k, dtype);
        const peak = nearbyPeak(dtype === 'bfloat16');
        const ms = timeIt(() => linear(g.a, T, packed, g.epilogue, g.out), seconds);
        if (dtype === 'float32') float32Ms = ms;
        computeBound({ model: shape.name, op: g.op, shape: `${T}x${g.k} * ${g.n}x${g.k}`, dtype, ms }, 2 * T * g.k * g.n, peak);
        if (dtype === 'int8') console.log(`${''.padEnd(10)} ${'  int8 / float32 speed'.padEnd(30)} ${(float32Ms / ms).toFixed(2)}x`);
      }
    }

    const cu = Int32Array.from({ length: numSeqs + 1 }, (_, i) => i * seqLen);
    {
      const peak = nearbyPeak(false);
      const ms = timeIt(() => attentionQkv(qkv, cu, shape.heads, headDim, undefined, context), seconds);
      // QK^T and PV: 2 * seqLen * headDim multiply-adds per query and head each (softmax's exps not counted).
      computeBound(
        { model: shape.name, op: 'attention (fused qkv rows)', shape: `${numSeqs}x${seqLen}, ${shape.heads}x${headDim}`, dtype: 'float32', ms },
        4 * T * seqLen * H,
        peak,
      );
    }
    {
      // The last layer under CLS pooling: every key and value, one query per sequence.
      const clsQuery = new Int32Array(numSeqs);
      const peak = nearbyPeak(false);
      const ms = timeIt(() => attentionQkv(qkv, cu, shape.heads, headDim, clsQuery, context), seconds);
      computeBound(
        { model: shape.name, op: 'attention CLS query only', shape: `${numSeqs}x${seqLen}, ${shape.heads}x${headDim}`, dtype: 'float32', ms },
        4 * numSeqs * seqLen * H,
        peak,
      );
    }
    {
      const vocab = 30522;
      const word = randomArray(vocab * H, 14);
      const position = randomArray(512 * H, 15);
      const tokenType = randomArray(2 * H, 16);
      const tokenIds = Int32Array.from({ length: T }, (_, i) => (i * 7919) % vocab);
      const positions = Int32Array.from({ length: T }, (_, i) => i % seqLen);
      const spec = { tokenIds, positions, word, wordDType: 'F32' as const, position, tokenType, hiddenSize: H, gamma, beta, eps: 1e-12, out: x };
      const bw = nearbyBandwidth();
      const ms = timeIt(() => embeddings(spec), seconds);
      // Word rows gathered (distinct here), the positions' rows once, ids and positions, the output.
      const bytes = 4 * (2 * T * H + seqLen * H + 2 * T);
      memoryBound({ model: shape.name, op: 'embeddings gather + LN', shape: `${T}x${H}`, dtype: 'float32', ms }, bytes, bytes, bw);
    }
    {
      const dims = new Int32Array(numSeqs);
      const normalize = new Uint8Array(numSeqs).fill(1);
      const pooled = new Float32Array(numSeqs * H);
      const bw = nearbyBandwidth();
      const ms = timeIt(() => pool(x, cu, H, 'mean', dims, normalize, pooled), seconds);
      const bytes = 4 * (T * H + numSeqs * H);
      memoryBound({ model: shape.name, op: 'mean pool + normalize', shape: `${numSeqs}x${seqLen}x${H}`, dtype: 'float32', ms }, bytes, bytes, bw);
    }
    {
      const bw = nearbyBandwidth();
      const ms = timeIt(() => layerNorm(context, T, H, gamma, beta, 1e-12, x, output), seconds);
      const bytes = 3 * 4 * T * H;
      memoryBound({ model: shape.name, op: 'layerNorm + residual (unfused)', shape: `${T}x${H}`, dtype: 'float32', ms }, bytes, bytes, bw);
    }
    {
      const bias = randomArray(I, 13);
      const up = randomArray(T * I, 12);
      const bw = nearbyBandwidth();
      const ms = timeIt(() => biasActivation(up, T, I, bias, 'gelu', intermediate), seconds);
      const bytes = 2 * 4 * T * I;
      memoryBound({ model: shape.name, op: 'bias + GELU (unfused)', shape: `${T}x${I}`, dtype: 'float32', ms }, bytes, bytes, bw);
    }
  }
  const peakAfter = peakGflops(false, 1);
  const bandwidthAfter = memoryBandwidth(streamBytes, 1);
  console.log(
    `again at the end: float32 peak ${peakAfter.toFixed(0)} GFLOP/s, triad ${bandwidthAfter.toFixed(1)} GB/s (a large change means the machine was busy)`,
  );
  if (values.json !== undefined) {
    void writeFile(
      values.json,
      JSON.stringify({ isa: features.isa, threads, tokens: T, peakF32, peakBf16, bandwidth, peakAfter, bandwidthAfter, results }, null, 2),
    );
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
