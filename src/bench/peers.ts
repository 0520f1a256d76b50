// npm run bench:peers -- [--threads N] [--rounds R] [--models bge-small,bge-base] [--json FILE]
//
// Our native CPU engine next to ONNX Runtime (onnxruntime-node, the engine under transformers.js and fastembed), on
// the same generated checkpoint and the same token ids, in one run, both with all cores. The checkpoint is exported
// to ONNX in TypeScript (src/bench/onnx_export.ts, with ORT's fused BERT ops), ORT's output is checked against ours
// before anything is timed, then each workload is timed in alternating rounds (ours float32, ours bfloat16, ORT) so
// a busy machine slows every engine alike. Prints sequences/s, tokens/s and ours/ORT per workload.
// A benchmark, not a test: it asserts only that the engines agree before timing them.
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { buildRaggedBatch, type RaggedBatch } from '../backends/backend.js';
import { createNativeBackend, type NativeBackend } from '../backends/native/backend.js';
import { loadModel } from '../model/load.js';
import type { LoadedModel } from '../model/types.js';
import { fixtureModel } from '../../test/fixtures/generate.js';
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

interface Workload {
  readonly numSeqs: number;
  readonly seqLen: number;
  readonly batch: RaggedBatch;
  readonly feeds: Record<string, import('onnxruntime-node').Tensor>;
}

function makeWorkload(ort: Ort, numSeqs: number, seqLen: number, vocabSize: number): Workload {
  const sequences = Array.from({ length: numSeqs }, (_, s) =>
    Array.from({ length: seqLen }, (_, i) => (i === 0 ? 101 : i === seqLen - 1 ? 102 : 1000 + ((i * 7919 + s * 104729) % (vocabSize - 1000)))),
  );
  const batch = buildRaggedBatch(sequences, { pooling: 'cls', normalize: sequences.map(() => true) });
  const ids = BigInt64Array.from(batch.tokenIds, (v) => BigInt(v));
  const positions = BigInt64Array.from(batch.positions, (v) => BigInt(v));
  const types = new BigInt64Array(ids.length);
  const dims = [numSeqs, seqLen];
  return {
    numSeqs,
    seqLen,
    batch,
    feeds: {
      input_ids: new ort.Tensor('int64', ids, dims),
      position_ids: new ort.Tensor('int64', positions, dims),
      token_type_ids: new ort.Tensor('int64', types, dims),
    },
  };
}

/** ORT's last_hidden_state -> CLS rows, L2-normalized (what our engine returns for pooling 'cls' + normalize). */
function ortPooled(hidden: Float32Array, numSeqs: number, seqLen: number, H: number): Float32Array[] {
  const rows: Float32Array[] = [];
  for (let s = 0; s < numSeqs; s++) {
    const row = hidden.slice(s * seqLen * H, s * seqLen * H + H);
    const norm = Math.sqrt(row.reduce((a, v) => a + v * v, 0));
    rows.push(row.map((v) => v / norm));
  }
  return rows;
}

function minCosine(a: Float32Array[], b: Float32Array[]): number {
  let worst = 1;
  for (let i = 0; i < a.length; i++) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let j = 0; j < a[i].length; j++) {
      dot += a[i][j] * b[i][j];
      na += a[i][j] * a[i][j];
      nb += b[i][j] * b[i][j];
    }
    worst = Math.min(worst, dot / Math.sqrt(na * nb));
  }
  return worst;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function timeOnce(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

interface Row {
  readonly model: string;
  readonly workload: string;
  readonly engine: string;
  readonly bestMs: number;
  readonly medianMs: number;
  readonly seqPerSecond: number;
  readonly tokensPerSecond: number;
  readonly ratioToOrt: number;
}

async function benchModel(ort: Ort, shape: ModelShape, threads: number, rounds: number, rows: Row[]): Promise<void> {
  const model: LoadedModel = await loadModel(await shape.load());
  if (model.config.architecture !== 'bert') throw new Error('bench:peers runs BERT models');
  const H = model.config.hiddenSize;
  const onnxBytes = exportBertOnnx(model);
  const session = await ort.InferenceSession.create(onnxBytes, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const engines: [string, NativeBackend][] = [
    ['ours float32', await createNativeBackend(model, { dtype: 'float32', threads })],
    ['ours bfloat16', await createNativeBackend(model, { dtype: 'bfloat16', threads })],
  ];
  try {
    // Agreement first: the same ids through both engines.
    const check = makeWorkload(ort, 4, 24, model.config.vocabSize);
    const ortRows = ortPooled((await session.run(check.feeds)).last_hidden_state.data as Float32Array, 4, 24, H);
    for (const [name, engine] of engines) {
      const cosine = minCosine(await engine.forward(check.batch), ortRows);
      const bar = name.includes('float32') ? 0.99999 : 0.999;
      console.log(`${shape.name}: ${name} vs ONNX Runtime, min cosine ${cosine.toFixed(7)}`);
      if (!(cosine >= bar)) throw new Error(`${shape.name}: ${name} disagrees with ONNX Runtime (cosine ${cosine} < ${bar})`);
    }

    for (const [numSeqs, seqLen] of WORKLOADS) {
      const w = makeWorkload(ort, numSeqs, seqLen, model.config.vocabSize);
      const runners: [string, () => Promise<unknown>][] = [
        ...engines.map(([name, engine]) => [name, () => engine.forward(w.batch)] as [string, () => Promise<unknown>]),
        ['onnxruntime', () => session.run(w.feeds)],
      ];
      const times = new Map<string, number[]>(runners.map(([name]) => [name, []]));
      for (const [, run] of runners) await run(); // warm-up
      for (let r = 0; r < rounds; r++) {
        for (const [name, run] of runners) {
          await sleep(30); // lets the other engine's spinning threads go idle
          times.get(name)!.push(await timeOnce(run));
        }
      }
      const ortBest = Math.min(...times.get('onnxruntime')!);
      const label = `${numSeqs} x ${seqLen}`;
      for (const [name] of runners) {
        const t = times.get(name)!;
        const best = Math.min(...t);
        const row: Row = {
          model: shape.name,
          workload: label,
          engine: name,
          bestMs: best,
          medianMs: median(t),
          seqPerSecond: (numSeqs * 1000) / best,
          tokensPerSecond: (numSeqs * seqLen * 1000) / best,
          ratioToOrt: ortBest / best,
        };
        rows.push(row);
        console.log(
          `${shape.name.padEnd(10)} ${label.padEnd(9)} ${name.padEnd(14)} best ${best.toFixed(1).padStart(8)} ms  median ${row.medianMs.toFixed(1).padStart(8)} ms  ` +
            `${row.seqPerSecond.toFixed(1).padStart(7)} seq/s ${row.tokensPerSecond.toFixed(0).padStart(7)} tok/s  ours/ORT ${row.ratioToOrt.toFixed(2)}x`,
        );
      }
    }
  } finally {
    for (const [, engine] of engines) await engine.dispose();
    await session.release();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      threads: { type: 'string', default: String(availableParallelism()) },
      rounds: { type: 'string', default: '5' },
      models: { type: 'string', default: MODELS.map((m) => m.name).join(',') },
      json: { type: 'string' },
    },
  });
  let ort: Ort;
  try {
    ort = await import('onnxruntime-node');
  } catch (error) {
    console.error(`bench:peers needs onnxruntime-node (an optional dependency): ${(error as Error).message}`);
    process.exitCode = 1;
    return;
  }
  const threads = Number(values.threads);
  const rounds = Number(values.rounds);
  console.log(`pooled bench:peers  threads=${threads}  rounds=${rounds}  onnxruntime-node ${ort.env.versions.node ?? '?'}`);
  const rows: Row[] = [];
  for (const name of values.models.split(',')) {
    const shape = MODELS.find((m) => m.name === name);
    if (shape === undefined) throw new Error(`unknown model ${name}; known: ${MODELS.map((m) => m.name).join(', ')}`);
    await benchModel(ort, shape, threads, rounds, rows);
  }
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify({ threads, rounds, rows }, null, 2));
}

await main();
