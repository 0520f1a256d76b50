// The reference BERT encoder and backend against an independent computation written here the textbook way:
// nested arrays, sequences padded to the longest one with an additive -inf attention mask (as transformers'
// BertModel does with padding), heads split into separate matrices, GELU through erfc. Tiny model: hidden 4,
// 2 heads, intermediate 8.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildRaggedBatch, type RaggedBatch } from '../../src/backends/backend.js';
import { bertForward } from '../../src/model/architectures/bert/reference.js';
import { loadBertWeights64 } from '../../src/model/architectures/bert/reference_weights.js';
import { createReferenceBackend, PagedReferenceBackend, ReferenceBackend } from '../../src/backends/reference/backend.js';
import { erfc } from '../../src/model/reference/erf.js';
import { InvalidRequestError, ModelLoadError } from '../../src/errors.js';
import { float32ToBytes } from '../../src/model/tensor_data.js';
import type { BertConfig, DType, LoadedModel, PoolingMode, TensorView } from '../../src/model/types.js';

type Matrix = number[][];

const BASE_CONFIG: BertConfig = {
  architecture: 'bert',
  vocabSize: 12,
  hiddenSize: 4,
  numLayers: 1,
  numHeads: 2,
  intermediateSize: 8,
  maxPositionEmbeddings: 10,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  hiddenAct: 'gelu',
  padTokenId: 0,
  taskTypeVocabSize: 0,
  isMatryoshka: false,
  matryoshkaDimensions: null,
};

/** Deterministic values in [-scale, scale): a 32-bit LCG (Numerical Recipes constants), enough for test weights. */
function makeRandom(seed: number): (scale: number) => number {
  let state = seed >>> 0;
  return (scale) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32 - 0.5) * 2 * scale;
  };
}

/** Every tensor of a BertModel for `config`, as float32 values (what a F32 checkpoint would hold). */
function makeTensors(config: BertConfig, seed: number): Map<string, { shape: number[]; values: Float32Array }> {
  const random = makeRandom(seed);
  const H = config.hiddenSize;
  const I = config.intermediateSize;
  const tensors = new Map<string, { shape: number[]; values: Float32Array }>();
  const add = (name: string, shape: number[], scale: number, offset = 0): void => {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = offset + random(scale);
    tensors.set(name, { shape, values });
  };
  add('embeddings.word_embeddings.weight', [config.vocabSize, H], 1);
  add('embeddings.position_embeddings.weight', [config.maxPositionEmbeddings, H], 0.5);
  add('embeddings.token_type_embeddings.weight', [config.typeVocabSize, H], 0.5);
  add('embeddings.LayerNorm.weight', [H], 0.2, 1);
  add('embeddings.LayerNorm.bias', [H], 0.2);
  for (let l = 0; l < config.numLayers; l++) {
    const p = `encoder.layer.${l}.`;
    // Weights of scale ~1 so attention is far from uniform and every sub-layer matters.
    for (const proj of ['query', 'key', 'value']) {
      add(`${p}attention.self.${proj}.weight`, [H, H], 1);
      add(`${p}attention.self.${proj}.bias`, [H], 0.3);
    }
    add(`${p}attention.output.dense.weight`, [H, H], 0.8);
    add(`${p}attention.output.dense.bias`, [H], 0.3);
    add(`${p}attention.output.LayerNorm.weight`, [H], 0.2, 1);
    add(`${p}attention.output.LayerNorm.bias`, [H], 0.2);
    add(`${p}intermediate.dense.weight`, [I, H], 1);
    add(`${p}intermediate.dense.bias`, [I], 0.3);
    add(`${p}output.dense.weight`, [H, I], 0.6);
    add(`${p}output.dense.bias`, [H], 0.3);
    add(`${p}output.LayerNorm.weight`, [H], 0.2, 1);
    add(`${p}output.LayerNorm.bias`, [H], 0.2);
  }
  add('pooler.dense.weight', [H, H], 1); // present in real checkpoints, unused by embedding models
  add('pooler.dense.bias', [H], 1);
  return tensors;
}

function toWeightMap(tensors: Map<string, { shape: number[]; values: Float32Array }>, dtype: DType): Map<string, TensorView> {
  const weights = new Map<string, TensorView>();
  for (const [name, { shape, values }] of tensors) weights.set(name, { name, dtype, shape, bytes: float32ToBytes(values, dtype) });
  return weights;
}

function makeModel(config: BertConfig, weights: Map<string, TensorView>): LoadedModel {
  return {
    id: 'tiny-bert',
    path: '/nonexistent/tiny-bert',
    config,
    weights,
    settings: { pooling: 'mean', normalize: true, maxSeqLength: config.maxPositionEmbeddings, prompts: {}, defaultPromptName: null, sources: {} },
  };
}

// ---------- the independent computation ----------

function dense(x: Matrix, weight: Float32Array, bias: Float32Array, inFeatures: number): Matrix {
  const outFeatures = bias.length;
  return x.map((row) => Array.from({ length: outFeatures }, (_, o) => row.reduce((sum, value, i) => sum + value * weight[o * inFeatures + i], bias[o])));
}

function normRows(x: Matrix, gamma: Float32Array, beta: Float32Array, eps: number): Matrix {
  return x.map((row) => {
    const mean = row.reduce((a, b) => a + b, 0) / row.length;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
    return row.map((value, i) => ((value - mean) / Math.sqrt(variance + eps)) * gamma[i] + beta[i]);
  });
}

function act(value: number, kind: BertConfig['hiddenAct']): number {
  if (kind === 'gelu') return 0.5 * value * erfc(-value / Math.SQRT2); // Phi(x) = erfc(-x / sqrt 2) / 2
  if (kind === 'relu') return Math.max(0, value);
  return 0.5 * value * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (value + 0.044715 * value ** 3)));
}

/** Last hidden state per sequence, computed on a padded [batch, maxLen, H] layout with a -inf key mask. */
function independentHidden(
  config: BertConfig,
  tensors: Map<string, { shape: number[]; values: Float32Array }>,
  sequences: number[][],
  typeIds: number[][] | null,
): Matrix[] {
  const t = (name: string): Float32Array => tensors.get(name)!.values;
  const H = config.hiddenSize;
  const d = H / config.numHeads;
  const maxLen = Math.max(...sequences.map((s) => s.length));
  const padded = sequences.map((s) => [...s, ...new Array<number>(maxLen - s.length).fill(config.padTokenId)]);
  return padded.map((ids, b) => {
    const realLen = sequences[b].length;
    let x: Matrix = ids.map((id, pos) => {
      const type = pos < realLen && typeIds ? typeIds[b][pos] : 0;
      return Array.from(
        { length: H },
        (_, h) =>
          t('embeddings.word_embeddings.weight')[id * H + h] +
          t('embeddings.position_embeddings.weight')[pos * H + h] +
          t('embeddings.token_type_embeddings.weight')[type * H + h],
      );
    });
    x = normRows(x, t('embeddings.LayerNorm.weight'), t('embeddings.LayerNorm.bias'), config.layerNormEps);
    const keyMask = ids.map((_, pos) => (pos < realLen ? 0 : -Infinity));
    for (let l = 0; l < config.numLayers; l++) {
      const p = `encoder.layer.${l}.`;
      const q = dense(x, t(`${p}attention.self.query.weight`), t(`${p}attention.self.query.bias`), H);
      const k = dense(x, t(`${p}attention.self.key.weight`), t(`${p}attention.self.key.bias`), H);
      const v = dense(x, t(`${p}attention.self.value.weight`), t(`${p}attention.self.value.bias`), H);
      const context: Matrix = x.map(() => new Array<number>(H).fill(0));
      for (let head = 0; head < config.numHeads; head++) {
        const slice = (m: Matrix): Matrix => m.map((row) => row.slice(head * d, (head + 1) * d));
        const [qh, kh, vh] = [slice(q), slice(k), slice(v)];
        for (let i = 0; i < maxLen; i++) {
          const scores = kh.map((kRow, j) => qh[i].reduce((s, qv, c) => s + qv * kRow[c], 0) / Math.sqrt(d) + keyMask[j]);
          const exps = scores.map(Math.exp); // no max subtraction: scores are small here, -inf -> 0
          const total = exps.reduce((a, b) => a + b, 0);
          for (let c = 0; c < d; c++) context[i][head * d + c] = exps.reduce((s, e, j) => s + (e / total) * vh[j][c], 0);
        }
      }
      const attnDense = dense(context, t(`${p}attention.output.dense.weight`), t(`${p}attention.output.dense.bias`), H);
      const attnOut = normRows(
        attnDense.map((row, i) => row.map((value, c) => value + x[i][c])),
        t(`${p}attention.output.LayerNorm.weight`),
        t(`${p}attention.output.LayerNorm.bias`),
        config.layerNormEps,
      );
      const inter = dense(attnOut, t(`${p}intermediate.dense.weight`), t(`${p}intermediate.dense.bias`), H).map((row) =>
        row.map((value) => act(value, config.hiddenAct)),
      );
      const outDense = dense(inter, t(`${p}output.dense.weight`), t(`${p}output.dense.bias`), config.intermediateSize);
      x = normRows(
        outDense.map((row, i) => row.map((value, c) => value + attnOut[i][c])),
        t(`${p}output.LayerNorm.weight`),
        t(`${p}output.LayerNorm.bias`),
        config.layerNormEps,
      );
    }
    return x.slice(0, realLen); // drop padding rows
  });
}

function independentPooled(hidden: Matrix, mode: PoolingMode, dimensions: number, normalize: boolean): number[] {
  let row: number[];
  if (mode === 'cls') row = hidden[0];
  else if (mode === 'last') row = hidden[hidden.length - 1];
  else row = hidden[0].map((_, c) => hidden.reduce((s, r) => s + r[c], 0) / hidden.length);
  if (dimensions > 0) row = row.slice(0, dimensions);
  if (!normalize) return row;
  const norm = Math.hypot(...row);
  return row.map((value) => value / norm);
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i] - expected[i]);
    assert.ok(error <= tolerance, `${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (|error| ${error} > ${tolerance})`);
  }
}

// ---------- tests ----------

const SEQUENCES = [
  [2, 5, 7, 3],
  [2, 9, 3],
  [2, 11, 4, 6, 8, 3],
];

describe('reference BERT encoder (hidden 4, 2 heads, intermediate 8)', () => {
  for (const [label, config] of [
    ['1 layer, gelu', BASE_CONFIG],
    ['2 layers, gelu', { ...BASE_CONFIG, numLayers: 2 }],
    ['1 layer, gelu_new', { ...BASE_CONFIG, hiddenAct: 'gelu_new' }],
    ['1 layer, relu', { ...BASE_CONFIG, hiddenAct: 'relu' }],
  ] as [string, BertConfig][]) {
    it(`matches the padded per-sequence computation token by token (${label})`, () => {
      const tensors = makeTensors(config, 7);
      const weights = loadBertWeights64(config, toWeightMap(tensors, 'F32'));
      const batch = buildRaggedBatch(SEQUENCES, { pooling: 'mean' });
      const hidden = bertForward(config, weights, batch);
      const expected = independentHidden(config, tensors, SEQUENCES, null);
      for (let s = 0; s < SEQUENCES.length; s++) {
        const start = batch.cuSeqLens[s] * config.hiddenSize;
        const end = batch.cuSeqLens[s + 1] * config.hiddenSize;
        // tolerance: 1e-12 abs; LayerNorm outputs are O(1) and both sides sum in float64 in different orders.
        assertClose(hidden.subarray(start, end), expected[s].flat(), 1e-12, `sequence ${s} hidden`);
      }
    });
  }

  it('uses token type ids when given (and zeros when absent)', () => {
    const tensors = makeTensors(BASE_CONFIG, 11);
    const weights = loadBertWeights64(BASE_CONFIG, toWeightMap(tensors, 'F32'));
    const typeIds = [
      [0, 0, 1, 1],
      [0, 1, 1],
    ];
    const sequences = SEQUENCES.slice(0, 2);
    const base = buildRaggedBatch(sequences, { pooling: 'cls' });
    const withTypes: RaggedBatch = { ...base, tokenTypeIds: Int32Array.from(typeIds.flat()) };
    const expected = independentHidden(BASE_CONFIG, tensors, sequences, typeIds);
    assertClose(bertForward(BASE_CONFIG, weights, withTypes), expected.flat(2), 1e-12, 'hidden with types'); // tolerance: 1e-12 abs
    const { tokenTypeIds: _unused, ...withoutTypes } = base;
    assert.deepEqual(bertForward(BASE_CONFIG, weights, withoutTypes), bertForward(BASE_CONFIG, weights, base)); // absent = zeros, exact
  });
});

describe('ReferenceBackend', () => {
  const tensors = makeTensors(BASE_CONFIG, 3);
  const model = makeModel(BASE_CONFIG, toWeightMap(tensors, 'F32'));
  const hiddenPerSequence = independentHidden(BASE_CONFIG, tensors, SEQUENCES, null);

  for (const pooling of ['cls', 'mean', 'last'] as const) {
    it(`pools (${pooling}), truncates and normalizes per sequence like the padded computation`, async () => {
      const backend = await ReferenceBackend.create(model);
      const dimensions = [0, 3, 2];
      const normalize = [true, true, false];
      const rows = backend.forward64(buildRaggedBatch(SEQUENCES, { pooling, dimensions, normalize }));
      assert.equal(rows.length, SEQUENCES.length);
      for (let s = 0; s < SEQUENCES.length; s++) {
        const expected = independentPooled(hiddenPerSequence[s], pooling, dimensions[s], normalize[s]);
        assertClose(rows[s], expected, 1e-12, `${pooling} row ${s}`); // tolerance: 1e-12 abs
      }
      if (pooling === 'mean') {
        // Normalized rows are unit vectors of the truncated length.
        assert.ok(Math.abs(Math.hypot(...rows[1]) - 1) <= 1e-15); // tolerance: a few ulps
      }
    });
  }

  it('is batch invariant: a sequence alone and inside a ragged batch give identical rows', async () => {
    const backend = await createReferenceBackend(model);
    assert.equal(backend.name, 'reference');
    assert.ok(!(backend instanceof PagedReferenceBackend), 'an encoder gets no KV cache');
    const together = await backend.forward(buildRaggedBatch(SEQUENCES, { pooling: 'mean', normalize: [true, true, true] }));
    for (let s = 0; s < SEQUENCES.length; s++) {
      const [alone] = await backend.forward(buildRaggedBatch([SEQUENCES[s]], { pooling: 'mean', normalize: [true] }));
      // tolerance: 0. Every row's arithmetic is independent of its neighbours in this backend.
      assert.deepEqual(alone, together[s], `sequence ${s}`);
    }
  });

  it('forward returns float32 rows equal to the rounded float64 rows', async () => {
    const backend = await ReferenceBackend.create(model);
    const batch = buildRaggedBatch(SEQUENCES, { pooling: 'cls', dimensions: [2, 0, 4] });
    const rows32 = await backend.forward(batch);
    const rows64 = backend.forward64(batch);
    assert.deepEqual(
      rows32,
      rows64.map((row) => Float32Array.from(row)),
    ); // exact: same rounding
    assert.deepEqual(
      rows32.map((row) => row.length),
      [2, 4, 4],
    );
    assert.ok(rows32[0] instanceof Float32Array);
  });

  it('reads F16 and BF16 checkpoints (weights widened exactly)', async () => {
    for (const dtype of ['F16', 'BF16'] as const) {
      const halfWeights = toWeightMap(tensors, dtype);
      // The same values, rounded to the half type, stored as F32: the two backends must agree exactly.
      const widened = new Map(
        [...tensors].map(([name, tensor]) => {
          const view = halfWeights.get(name)!;
          const values = loadHalf(view);
          return [name, { shape: tensor.shape, values }] as const;
        }),
      );
      const batch = buildRaggedBatch(SEQUENCES, { pooling: 'mean', normalize: [true, false, true] });
      const fromHalf = (await ReferenceBackend.create(makeModel(BASE_CONFIG, halfWeights))).forward64(batch);
      const fromF32 = (await ReferenceBackend.create(makeModel(BASE_CONFIG, toWeightMap(widened, 'F32')))).forward64(batch);
      assert.deepEqual(fromHalf, fromF32, dtype); // exact
    }
  });

  it('refuses what it cannot run with a clear error', async () => {
    const unregistered = { ...model, config: { ...BASE_CONFIG, architecture: 'gpt2' } } as unknown as LoadedModel;
    await assert.rejects(
      ReferenceBackend.create(unregistered),
      (error: unknown) => error instanceof ModelLoadError && /no registered architecture 'gpt2'/.test(error.message),
    );
    // An encoder declares no paged KV: it has no paged reference backend.
    await assert.rejects(
      PagedReferenceBackend.create(model),
      (error: unknown) => error instanceof ModelLoadError && /'bert' has no paged KV cache/.test(error.message),
    );

    const missing = new Map(model.weights);
    missing.delete('encoder.layer.0.intermediate.dense.bias');
    await assert.rejects(ReferenceBackend.create({ ...model, weights: missing }), /missing tensor encoder\.layer\.0\.intermediate\.dense\.bias/);

    const misshapen = new Map(model.weights);
    const word = misshapen.get('embeddings.word_embeddings.weight')!;
    misshapen.set(word.name, { ...word, shape: [BASE_CONFIG.hiddenSize, BASE_CONFIG.vocabSize] });
    await assert.rejects(ReferenceBackend.create({ ...model, weights: misshapen }), /shape \[4, 12\], config\.json implies \[12, 4\]/);

    const backend = await ReferenceBackend.create(model);
    assert.throws(
      () => backend.forward64(buildRaggedBatch([[2, 12]], { pooling: 'cls' })),
      (error: unknown) => error instanceof InvalidRequestError && /token id 12/.test(error.message),
    );
    assert.throws(() => backend.forward64(buildRaggedBatch([new Array<number>(11).fill(2)], { pooling: 'cls' })), /input too long/);
    assert.throws(() => backend.forward64(buildRaggedBatch([[2, 3]], { pooling: 'cls', dimensions: [5] })), InvalidRequestError);
    assert.throws(() => backend.forward64(buildRaggedBatch([[2, 3], []], { pooling: 'cls' })), /sequence 1 is empty/);
    await backend.dispose();
    await assert.rejects(backend.forward(buildRaggedBatch([[2, 3]], { pooling: 'cls' })), /after dispose/);
  });
});

/** F16/BF16 bytes -> float32, written out here so the test does not rely on the decoder it checks. */
function loadHalf(view: TensorView): Float32Array {
  const out = new Float32Array(view.bytes.length / 2);
  for (let i = 0; i < out.length; i++) {
    const bits = view.bytes[2 * i] | (view.bytes[2 * i + 1] << 8);
    if (view.dtype === 'BF16') {
      out[i] = new Float32Array(new Uint32Array([bits << 16]).buffer)[0];
    } else {
      const exponent = (bits >> 10) & 0x1f;
      const mantissa = bits & 0x3ff;
      const magnitude = exponent === 0 ? mantissa * 2 ** -24 : (1 + mantissa / 1024) * 2 ** (exponent - 15);
      out[i] = bits & 0x8000 ? -magnitude : magnitude;
    }
  }
  return out;
}
