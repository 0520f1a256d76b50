// NomicBERT and GTE (the rotary-BERT graph, native/engine/graphs/rotary_bert.*) on the native CPU engine, whole model:
// the tiny seeded checkpoints in the real layouts (test/helpers/rotary_bert_fixture.ts) against the float64 reference,
// float32 and bfloat16 weights, CLS / MEAN pooling, Matryoshka dimensions; batch invariance; an 8192-token input
// batched with short ones; and the load-time checks (a missing tensor, a bias the config says is absent).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildRaggedBatch, type RaggedBatch } from '../../src/backends/backend.js';
import { createNativeBackend, type NativeBackend } from '../../src/backends/native/backend.js';
import { ReferenceBackend } from '../../src/backends/reference/backend.js';
import { ModelLoadError } from '../../src/errors.js';
import { loadModel } from '../../src/model/load.js';
import type { LoadedModel } from '../../src/model/types.js';
import { writeTinyRotaryBert, type RotaryBertFamily, type TinyRotaryBertOptions } from '../helpers/rotary_bert_fixture.js';
import { assertRowsClose, WHOLE_MODEL_INIT_STD, WorstErrors, type RowTolerance } from '../helpers/whole_model.js';

// Bounds on each pooled row against the float64 reference, on checkpoints drawn with std WHOLE_MODEL_INIT_STD (sharp
// attention, gate inputs of a few units), hidden 32, 2 layers. float32: every op rounds to ~6e-8 relative; measured
// worst 1 - cos 2.0e-14, max abs 4.8e-7 (NomicBERT and GTE alike); 1 - cos <= 1e-9 is the project's float32 bar.
// bfloat16 weights: each weight rounded to 8 significant bits (2^-9 relative) against the checkpoint's exact values;
// measured worst 1 - cos 1.7e-6, max abs 3.5e-3; bounds about 6x and 4x above.
const TOLERANCE: Record<'float32' | 'bfloat16', RowTolerance> = {
  float32: { cosineDistance: 1e-9, maxAbs: 1e-5 },
  bfloat16: { cosineDistance: 1e-5, maxAbs: 0.015 },
};
// The 8192-token input (hidden 16, 1 layer): float32 attention over 8192 keys sums 8192 rounded terms per output;
// measured worst 1 - cos 1.9e-12, max abs 1.3e-6.
const LONG_INPUT_FLOAT32: RowTolerance = { cosineDistance: 1e-9, maxAbs: 1e-5 };

const worst = new WorstErrors('native rotary BERT');
const dirs: string[] = [];
const open: NativeBackend[] = [];
after(async () => {
  for (const backend of open) await backend.dispose();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** GTE as gte-base-en-v1.5 ships it: no token type table, NTK rope factor 2; NomicBERT with its two token types. */
const FAMILY_OPTIONS: Record<RotaryBertFamily, TinyRotaryBertOptions> = {
  nomic_bert: { typeVocabSize: 2 },
  gte: { typeVocabSize: 0, ntkFactor: 2 },
};

async function tinyModel(family: RotaryBertFamily, options: TinyRotaryBertOptions = {}): Promise<LoadedModel> {
  const dir = await mkdtemp(join(tmpdir(), `native-${family}-`));
  dirs.push(dir);
  await writeTinyRotaryBert(dir, family, { initScale: WHOLE_MODEL_INIT_STD, ...FAMILY_OPTIONS[family], ...options });
  return loadModel(dir);
}

async function native(model: LoadedModel, dtype: 'float32' | 'bfloat16'): Promise<NativeBackend> {
  const backend = await createNativeBackend(model, { dtype, threads: 2 });
  open.push(backend);
  return backend;
}

/** Deterministic ids over the vocabulary. */
function tokens(length: number, salt: number, vocabSize: number): number[] {
  return Array.from({ length }, (_, i) => (i * 31 + salt * 17 + 1) % vocabSize);
}

for (const family of ['nomic_bert', 'gte'] as const) {
  describe(`native ${family}: whole model against the float64 reference`, () => {
    let model: LoadedModel;
    let reference: ReferenceBackend;
    const inputs: number[][] = [];
    before(async () => {
      model = await tinyModel(family);
      reference = await ReferenceBackend.create(model);
      const { vocabSize } = model.config;
      inputs.push(tokens(1, 1, vocabSize), tokens(9, 2, vocabSize), tokens(40, 3, vocabSize), tokens(130, 4, vocabSize));
    });

    const batchOf = (pooling: 'cls' | 'mean', withTypes: boolean): RaggedBatch => {
      const batch = buildRaggedBatch(inputs, {
        pooling,
        normalize: inputs.map((_, i) => i % 2 === 0),
        dimensions: inputs.map((_, i) => (i === 2 ? 16 : 0)),
      });
      // Second half of each input in segment 1 (token_type_ids as a sentence pair would give them).
      const tokenTypeIds = Int32Array.from(inputs.flatMap((ids) => ids.map((_, p) => (p > ids.length / 2 ? 1 : 0))));
      return withTypes ? { ...batch, tokenTypeIds } : batch;
    };

    for (const dtype of ['float32', 'bfloat16'] as const) {
      test(`${dtype}: CLS and MEAN pooling, normalized or not, Matryoshka dimensions`, async () => {
        const backend = await native(model, dtype);
        for (const pooling of ['cls', 'mean'] as const) {
          // NomicBERT has a token type table: exercise it with types 1 too.
          const batch = batchOf(pooling, family === 'nomic_bert');
          assertRowsClose(await backend.forward(batch), reference.forward64(batch), TOLERANCE[dtype], `${family} ${dtype} ${pooling}`, {
            errors: worst,
            key: `${family} ${dtype}`,
          });
        }
      });
    }

    test('float32: a text alone = the same text inside a mixed batch (bitwise)', async () => {
      const backend = await native(model, 'float32');
      for (const pooling of ['cls', 'mean'] as const) {
        const together = await backend.forward(buildRaggedBatch(inputs, { pooling, normalize: inputs.map(() => true), dimensions: inputs.map(() => 0) }));
        for (const [i, input] of inputs.entries()) {
          const [alone] = await backend.forward(buildRaggedBatch([input], { pooling, normalize: [true], dimensions: [0] }));
          assert.deepEqual(alone, together[i], `${pooling} input ${i}`);
        }
      }
    });

    test('an input longer than max_position_embeddings is refused, naming the position', async () => {
      const backend = await native(model, 'float32');
      const tooLong = tokens(model.config.maxPositionEmbeddings + 1, 5, model.config.vocabSize);
      await assert.rejects(
        backend.forward(buildRaggedBatch([tooLong], { pooling: 'mean', normalize: [true], dimensions: [0] })),
        /position 8192 .*max_position_embeddings 8192/,
      );
    });
  });
}

describe('native rotary BERT: an 8192-token input batched with short ones', () => {
  // GTE's NTK rope (gte-base-en-v1.5: max_position_embeddings 8192) at every position up to 8191. Hidden 16 and one
  // layer keep the float64 reference (O(T^2) attention in JavaScript) to a few seconds; the whole batch is checked.
  test('gte float32: every pooled row (CLS and MEAN) against the reference', async () => {
    const model = await tinyModel('gte', { hiddenSize: 16, numHeads: 2, numLayers: 1, intermediateSize: 32 });
    const backend = await native(model, 'float32');
    const reference = await ReferenceBackend.create(model);
    const { vocabSize } = model.config;
    const inputs = [tokens(3, 1, vocabSize), tokens(8192, 2, vocabSize), tokens(17, 3, vocabSize)];
    const batch = buildRaggedBatch(inputs, { pooling: 'mean', normalize: [true, true, false], dimensions: [0, 8, 0] });
    const expected = reference.forward64(batch);
    assertRowsClose(await backend.forward(batch), expected, LONG_INPUT_FLOAT32, 'gte 8192 tokens mean', { errors: worst, key: 'long input' });
    // CLS pooling prunes the last layer to the pooled rows: the 8192-token row must still see all 8192 keys.
    const cls = buildRaggedBatch(inputs, { pooling: 'cls', normalize: [true, true, true], dimensions: [0, 0, 0] });
    assertRowsClose(await backend.forward(cls), reference.forward64(cls), LONG_INPUT_FLOAT32, 'gte 8192 tokens cls', { errors: worst, key: 'long input' });
  });
});

describe('native rotary BERT: load-time checks', () => {
  test('a checkpoint whose config says "no bias" but that has one, or that lacks a tensor, fails the load naming it', async () => {
    const model = await tinyModel('nomic_bert', { numLayers: 1 });
    const extraBias = new Map(model.weights);
    const fc2 = model.weights.get('encoder.layers.0.mlp.fc2.weight')!;
    extraBias.set('encoder.layers.0.mlp.fc2.bias', { ...fc2, shape: [fc2.shape[0]], bytes: fc2.bytes.subarray(0, fc2.shape[0] * 4) });
    await assert.rejects(createNativeBackend({ ...model, weights: extraBias }, { dtype: 'float32' }), (error: Error) => {
      assert.ok(error instanceof ModelLoadError, String(error));
      assert.match(error.message, /encoder\.layers\.0\.mlp\.fc2\.bias is present but the config says the layer has no bias/);
      return true;
    });
    const missing = new Map(model.weights);
    missing.delete('encoder.layers.0.mlp.fc12.weight');
    await assert.rejects(createNativeBackend({ ...model, weights: missing }, { dtype: 'float32' }), /encoder\.layers\.0\.mlp\.fc12\.weight/);
  });
});
