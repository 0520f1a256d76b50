// npm run bench:peers -- [--threads N] [--rounds R] [--models bge-small,bge-base] [--ort-int8-python PYTHON] [--json FILE]
//
// Our native CPU engine next to ONNX Runtime (onnxruntime-node, the engine under transformers.js and fastembed), on
// the same generated checkpoint and the same token ids, in one run, both with all cores. The checkpoint is exported
// to ONNX in TypeScript (onnx_export.ts, with ORT's fused BERT ops). Each workload is timed in alternating rounds
// (ours float32, ours bfloat16, ours int8 (--quantization int8), ORT float32, and ORT int8 when --ort-int8-python
// names a Python with onnxruntime (run.sh makes one): ORT's own quantize_dynamic of the same exported graph, int8
// weights per channel, activations per token, each with CLS and with MEAN pooling) so a busy machine slows every
// engine alike, and printed twice:
//   - CLS pooling: our engine skips the last layer's work for every row but the CLS token (attention output and the
//     dense layers on one row per sequence: native/engine/graphs/bert.cpp, prune_last_layer), while ORT computes the
//     whole last_hidden_state; this is the speed a CLS model really gets, but it is not equal work;
//   - MEAN pooling: every engine computes every row of every layer: equal work, the fair comparison.
// ORT's pooling is done in TypeScript from last_hidden_state, inside its timed region: CLS reads row 0 of each
// sequence, MEAN averages the rows of the sequence's real tokens (from cuSeqLens; these inputs have no padding), then
// both L2-normalize, as our engine does for normalize = true.
//
// Agreement is checked on every timed workload, twice: on the warm-up outputs before timing (fail fast), and on the
// outputs of the last timed round of each engine after timing, per row (cosine and max |ours - ORT| over the
// L2-normalized rows). The bounds are below (AGREEMENT); any row outside them stops the run with an error.
// A benchmark, not a test: it asserts only that the engines agree.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildRaggedBatch, type RaggedBatch } from '../../backends/backend.js';
import { createNativeBackend, type NativeBackend } from '../../backends/native/backend.js';
import { loadModel } from '../../model/load.js';
import type { LoadedModel, PoolingMode } from '../../model/types.js';
import { fixtureModel } from '../../../test/fixtures/generate.js';
import { exportBertOnnx } from './onnx_export.js';

type Ort = typeof import('onnxruntime-node');

interface ModelShape {
  readonly name: string;
  readonly load: () => Promise<string>;
}

// bge-small is the real layout; bge-base has the same layout at hidden 768 / intermediate 3072 / 12 layers.
const MODELS: readonly ModelShape[] = [
  { name: 'bge-small', load: () => fixtureModel('bge-small') },
  { name: 'bge-base', load: () => fixtureModel('bge-small', { shrink: { hiddenSize: 768, intermediateSize: 3072, numHeads: 12 } }) },
];

const WORKLOADS: readonly [number, number][] = [
  [1, 128],
  [32, 128],
  [32, 256],
  [16, 512],
];

const POOLINGS = ['cls', 'mean'] as const satisfies readonly PoolingMode[];
type Pooling = (typeof POOLINGS)[number];
const DTYPES = ['float32', 'bfloat16', 'int8'] as const;
type DType = (typeof DTYPES)[number];

/**
 * Per row of the L2-normalized outputs: cosine >= minCosine and max |ours - ORT| <= maxAbs. Measured 2026-12-07 on an
 * AMD EPYC (avx512, 2 threads; `npm run bench:peers -- --rounds 2 --models bge-small`, and the same check on
 * bge-base), worst row over every workload and both poolings:
 *   float32:  1 - cos <= 2.3e-13 (bge-small), 9.6e-13 (bge-base); max |d| <= 2.2e-7 (a few ulps: summation order)
 *   bfloat16: 1 - cos <= 3.0e-6 (bge-small), 1.1e-5 (bge-base); max |d| <= 6.1e-4, 6.8e-4 (weights rounded to bf16)
 * The float32 bounds stay tight (a few ulps of headroom): any real difference in the computation, even one wrong
 * element, breaks them. The bfloat16 bounds are about 5x the worst measured value.
 */
const AGREEMENT: Record<DType | 'ort int8', { readonly minCosine: number; readonly maxAbs: number }> = {
  float32: { minCosine: 1 - 1e-10, maxAbs: 1e-6 },
  bfloat16: { minCosine: 1 - 5e-5, maxAbs: 3e-3 },
  // Ours int8 and ORT's int8 (quantize_dynamic, per channel), each against ORT float32: the quantization's error, not
  // the arithmetic's. Measured 2026-12-08, AMD EPYC, 2 threads, every workload and pooling of both models:
  //   ours int8: 1 - cos <= 6.1e-5 (bge-small), 2.3e-4 (bge-base); max |d| <= 2.7e-3, 3.9e-3
  //   ORT int8:  1 - cos <= 1.8e-4 (bge-small), 4.5e-4 (bge-base); max |d| <= 6.6e-3, 5.8e-3
  // Bounds 3-5x the worst measured.
  int8: { minCosine: 1 - 1e-3, maxAbs: 1.5e-2 },
  'ort int8': { minCosine: 1 - 1.5e-3, maxAbs: 3e-2 },
};

/**
 * ONNX Runtime's dynamic int8 quantization of `onnxBytes` (onnxruntime.quantization.quantize_dynamic: int8 weights per
 * channel, uint8 activations per token at run time), through `python`; the quantized model's bytes.
 */
async function quantizeDynamic(python: string, onnxBytes: Uint8Array): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), 'pooled-peers-'));
  try {
    const source = join(dir, 'model.onnx');
    const target = join(dir, 'model.int8.onnx');
    await writeFile(source, onnxBytes);
    const script =
      'import sys\n' +
      'from onnx import TensorProto\n' +
      'from onnxruntime.quantization import QuantType, quantize_dynamic\n' +
      // Per channel, as ours. Shape inference cannot type the outputs of ORT's fused com.microsoft ops the export
      // uses; they are all float32, which DefaultTensorType tells the quantizer.
      'quantize_dynamic(sys.argv[1], sys.argv[2], weight_type=QuantType.QInt8, per_channel=True,\n' +
      '                 extra_options={"DefaultTensorType": TensorProto.FLOAT})\n';
    execFileSync(python, ['-c', script, source, target], { stdio: ['ignore', 'ignore', 'inherit'] });
    return new Uint8Array(await readFile(target));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Workload {
  readonly numSeqs: number;
  readonly seqLen: number;
  readonly batches: Record<Pooling, RaggedBatch>;
  readonly feeds: Record<string, import('onnxruntime-node').Tensor>;
}

function makeWorkload(ort: Ort, numSeqs: number, seqLen: number, vocabSize: number): Workload {
  const sequences = Array.from({ length: numSeqs }, (_, s) =>
    Array.from({ length: seqLen }, (_, i) => (i === 0 ? 101 : i === seqLen - 1 ? 102 : 1000 + ((i * 7919 + s * 104729) % (vocabSize - 1000)))),
  );
  const normalize = sequences.map(() => true);
  const batches = { cls: buildRaggedBatch(sequences, { pooling: 'cls', normalize }), mean: buildRaggedBatch(sequences, { pooling: 'mean', normalize }) };
  const ids = BigInt64Array.from(batches.cls.tokenIds, (v) => BigInt(v));
  const positions = BigInt64Array.from(batches.cls.positions, (v) => BigInt(v));
  const types = new BigInt64Array(ids.length);
  const dims = [numSeqs, seqLen];
  return {
    numSeqs,
    seqLen,
    batches,
    feeds: {
      input_ids: new ort.Tensor('int64', ids, dims),
      position_ids: new ort.Tensor('int64', positions, dims),
      token_type_ids: new ort.Tensor('int64', types, dims),
    },
  };
}

/**
 * ORT's last_hidden_state [numSeqs, seqLen, H] -> one L2-normalized row per sequence: CLS = row 0, MEAN = the mean of
 * the sequence's real tokens (cuSeqLens gives each length; rows past it, padding, are never read).
 */
function ortPool(hidden: Float32Array, cuSeqLens: Int32Array, seqLen: number, H: number, pooling: Pooling): Float32Array[] {
  const rows: Float32Array[] = [];
  for (let s = 0; s + 1 < cuSeqLens.length; s++) {
    const length = cuSeqLens[s + 1] - cuSeqLens[s];
    const base = s * seqLen * H;
    const row = new Float32Array(H);
    if (pooling === 'cls') {
      row.set(hidden.subarray(base, base + H));
    } else {
      const sum = new Float64Array(H);
      for (let t = 0; t < length; t++) {
        const offset = base + t * H;
        for (let j = 0; j < H; j++) sum[j] += hidden[offset + j];
      }
      for (let j = 0; j < H; j++) row[j] = sum[j] / length;
    }
    let norm = 0;
    for (let j = 0; j < H; j++) norm += row[j] * row[j];
    const scale = 1 / Math.sqrt(norm);
    for (let j = 0; j < H; j++) row[j] *= scale;
    rows.push(row);
  }
  return rows;
}

interface Agreement {
  readonly minCosine: number;
  readonly maxAbs: number;
}

/** The worst row's cosine and the largest element difference between two sets of rows. */
function agreement(ours: readonly Float32Array[], theirs: readonly Float32Array[]): Agreement {
  if (ours.length !== theirs.length) throw new Error(`row counts differ: ${ours.length} vs ${theirs.length}`);
  let minCosine = 1;
  let maxAbs = 0;
  for (let i = 0; i < ours.length; i++) {
    const a = ours[i];
    const b = theirs[i];
    if (a.length !== b.length) throw new Error(`row ${i}: ${a.length} vs ${b.length} values`);
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let j = 0; j < a.length; j++) {
      dot += a[j] * b[j];
      na += a[j] * a[j];
      nb += b[j] * b[j];
      maxAbs = Math.max(maxAbs, Math.abs(a[j] - b[j]));
    }
    const cosine = dot / Math.sqrt(na * nb);
    minCosine = Math.min(minCosine, Number.isNaN(cosine) ? -Infinity : cosine);
    if (!a.every(Number.isFinite)) maxAbs = Infinity;
  }
  return { minCosine, maxAbs };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

interface Row {
  readonly model: string;
  readonly workload: string;
  readonly pooling: Pooling;
  readonly engine: string;
  readonly bestMs: number;
  readonly medianMs: number;
  readonly seqPerSecond: number;
  readonly tokensPerSecond: number;
  /** ORT's best time / this engine's best time (> 1: faster than ORT); 1 for ORT itself. */
  readonly ratioToOrt: number;
  /** ORT int8's best time / this engine's best time, when ORT int8 ran. */
  readonly ratioToOrtInt8?: number;
  /** Against ORT's rows of the same pooling (absent for ORT): warm-up outputs and last timed outputs. */
  readonly agreementBefore?: Agreement;
  readonly agreementAfter?: Agreement;
}

interface Runner {
  readonly engine: string; // 'ours float32' | 'ours bfloat16' | 'ours int8' | 'onnxruntime' | 'onnxruntime int8'
  /** The agreement bound it is held to against ORT float32; null for ORT float32 itself. */
  readonly dtype: DType | 'ort int8' | null;
  readonly pooling: Pooling;
  readonly run: () => Promise<Float32Array[]>;
}

function checkAgreement(where: string, runner: Runner, got: Agreement): void {
  const bound = AGREEMENT[runner.dtype!];
  if (!(got.minCosine >= bound.minCosine && got.maxAbs <= bound.maxAbs)) {
    throw new Error(
      `${where}: ${runner.engine} ${runner.pooling.toUpperCase()} disagrees with ONNX Runtime: min cosine ${got.minCosine} (bound ${bound.minCosine}), ` +
        `max |diff| ${got.maxAbs} (bound ${bound.maxAbs})`,
    );
  }
}

async function benchModel(ort: Ort, shape: ModelShape, threads: number, rounds: number, ortInt8Python: string | undefined, rows: Row[]): Promise<void> {
  const model: LoadedModel = await loadModel(await shape.load());
  if (model.config.architecture !== 'bert') throw new Error('bench:peers runs BERT models');
  const H = model.config.hiddenSize;
  const onnxBytes = exportBertOnnx(model);
  const sessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  } as const;
  const session = await ort.InferenceSession.create(onnxBytes, sessionOptions);
  const int8Session = ortInt8Python === undefined ? null : await ort.InferenceSession.create(await quantizeDynamic(ortInt8Python, onnxBytes), sessionOptions);
  const engines = new Map<DType, NativeBackend>();
  try {
    for (const dtype of DTYPES) engines.set(dtype, await createNativeBackend(model, { dtype, threads }));
    for (const [numSeqs, seqLen] of WORKLOADS) {
      const w = makeWorkload(ort, numSeqs, seqLen, model.config.vocabSize);
      const label = `${numSeqs} x ${seqLen}`;
      const where = `${shape.name} ${label}`;
      const runners: Runner[] = [];
      for (const pooling of POOLINGS) {
        for (const dtype of DTYPES) {
          const engine = engines.get(dtype)!;
          runners.push({ engine: `ours ${dtype}`, dtype, pooling, run: () => engine.forward(w.batches[pooling]) });
        }
        runners.push({
          engine: 'onnxruntime',
          dtype: null,
          pooling,
          run: async () => {
            const hidden = (await session.run(w.feeds)).last_hidden_state.data as Float32Array;
            return ortPool(hidden, w.batches[pooling].cuSeqLens, seqLen, H, pooling);
          },
        });
        if (int8Session !== null) {
          runners.push({
            engine: 'onnxruntime int8',
            dtype: 'ort int8',
            pooling,
            run: async () => {
              const hidden = (await int8Session.run(w.feeds)).last_hidden_state.data as Float32Array;
              return ortPool(hidden, w.batches[pooling].cuSeqLens, seqLen, H, pooling);
            },
          });
        }
      }
      const ortRunner = (pooling: Pooling) => runners.find((r) => r.engine === 'onnxruntime' && r.pooling === pooling)!;

      // Warm-up, whose outputs are checked before anything is timed.
      const warmOutputs = new Map<Runner, Float32Array[]>();
      for (const runner of runners) warmOutputs.set(runner, await runner.run());
      const before = new Map<Runner, Agreement>();
      for (const runner of runners) {
        if (runner.dtype === null) continue;
        const got = agreement(warmOutputs.get(runner)!, warmOutputs.get(ortRunner(runner.pooling))!);
        before.set(runner, got);
        checkAgreement(`${where} (warm-up)`, runner, got);
      }

      const times = new Map<Runner, number[]>(runners.map((r) => [r, []]));
      const lastOutputs = new Map<Runner, Float32Array[]>();
      for (let r = 0; r < rounds; r++) {
        for (const runner of runners) {
          await sleep(30); // lets the other engine's spinning threads go idle
          const start = performance.now();
          const output = await runner.run();
          times.get(runner)!.push(performance.now() - start);
          lastOutputs.set(runner, output);
        }
      }

      for (const pooling of POOLINGS) {
        const ortTimes = times.get(ortRunner(pooling))!;
        const ortBest = Math.min(...ortTimes);
        const int8Runner = runners.find((r) => r.engine === 'onnxruntime int8' && r.pooling === pooling);
        const ortInt8Best = int8Runner === undefined ? undefined : Math.min(...times.get(int8Runner)!);
        const parts = [`ORT ${ortBest.toFixed(1).padStart(8)} ms`];
        for (const runner of runners.filter((r) => r.pooling === pooling)) {
          const t = times.get(runner)!;
          const best = Math.min(...t);
          let after: Agreement | undefined;
          if (runner.dtype !== null) {
            after = agreement(lastOutputs.get(runner)!, lastOutputs.get(ortRunner(pooling))!);
            checkAgreement(`${where} (timed run)`, runner, after);
            const name = runner.engine === 'onnxruntime int8' ? 'ORT int8' : runner.engine.slice(5);
            const versusInt8 = runner.dtype === 'int8' && ortInt8Best !== undefined ? `, ${(ortInt8Best / best).toFixed(2)}x ORT int8` : '';
            parts.push(
              `${name} ${best.toFixed(1).padStart(8)} ms ${(ortBest / best).toFixed(2)}x${versusInt8} ` +
                `(1-cos ${(1 - after.minCosine).toExponential(1)}, |d| ${after.maxAbs.toExponential(1)})`,
            );
          }
          rows.push({
            model: shape.name,
            workload: label,
            pooling,
            engine: runner.engine,
            bestMs: best,
            medianMs: median(t),
            seqPerSecond: (numSeqs * 1000) / best,
            tokensPerSecond: (numSeqs * seqLen * 1000) / best,
            ratioToOrt: ortBest / best,
            ratioToOrtInt8: ortInt8Best === undefined ? undefined : ortInt8Best / best,
            agreementBefore: before.get(runner),
            agreementAfter: after,
          });
        }
        const note = pooling === 'cls' ? '  (ours: last layer on CLS rows only)' : '  (equal work)';
        console.log(`${shape.name.padEnd(10)} ${label.padEnd(9)} ${pooling.toUpperCase().padEnd(4)} ${parts.join(' | ')}${note}`);
      }
    }
  } finally {
    for (const engine of engines.values()) await engine.dispose();
    await session.release();
    await int8Session?.release();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      threads: { type: 'string', default: String(availableParallelism()) },
      rounds: { type: 'string', default: '5' },
      models: { type: 'string', default: MODELS.map((m) => m.name).join(',') },
      'ort-int8-python': { type: 'string' },
      json: { type: 'string' },
    },
  });
  let ort: Ort;
  try {
    ort = await import('onnxruntime-node');
  } catch (error) {
    console.error(`bench:peers needs onnxruntime-node (installed by src/bench/peers/run.sh): ${(error as Error).message}`);
    process.exitCode = 1;
    return;
  }
  const threads = Number(values.threads);
  const rounds = Number(values.rounds);
  console.log(`pooled bench:peers  threads=${threads}  rounds=${rounds}  onnxruntime-node ${ort.env.versions.node ?? '?'}`);
  console.log(
    `best of ${rounds} per engine; Nx = ORT ms / ours ms (> 1: ours faster); 1-cos, |d| = worst row of the last timed run vs ORT ` +
      `(bounds: float32 ${(1 - AGREEMENT.float32.minCosine).toExponential(0)}, ${AGREEMENT.float32.maxAbs.toExponential(0)}; ` +
      `bfloat16 ${(1 - AGREEMENT.bfloat16.minCosine).toExponential(0)}, ${AGREEMENT.bfloat16.maxAbs.toExponential(0)}; ` +
      `int8 ${(1 - AGREEMENT.int8.minCosine).toExponential(0)}, ${AGREEMENT.int8.maxAbs.toExponential(0)})` +
      (values['ort-int8-python'] === undefined ? '; ORT int8 skipped (no --ort-int8-python)' : ''),
  );
  const rows: Row[] = [];
  for (const name of values.models.split(',')) {
    const shape = MODELS.find((m) => m.name === name);
    if (shape === undefined) throw new Error(`unknown model ${name}; known: ${MODELS.map((m) => m.name).join(', ')}`);
    await benchModel(ort, shape, threads, rounds, values['ort-int8-python'], rows);
  }
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify({ threads, rounds, agreementBounds: AGREEMENT, rows }, null, 2));
}

await main();
