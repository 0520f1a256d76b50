// NomicBERT and GTE on the WebGPU backend (src/backends/webgpu/rotary_bert_encoder.ts), whole model: the tiny seeded
// checkpoints in the real layouts (test/helpers/rotary_bert_fixture.ts) against the float64 reference in f32, CLS /
// MEAN pooling, Matryoshka dimensions, token types; batch invariance; GTE's NTK rope at positions up to 1000.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildRaggedBatch, type RaggedBatch } from '../../src/backends/backend.js';
import { ReferenceBackend } from '../../src/backends/reference/backend.js';
import { WebGpuBackend } from '../../src/backends/webgpu/backend.js';
import { loadModel } from '../../src/model/load.js';
import type { LoadedModel } from '../../src/model/types.js';
import { missingCapability } from '../helpers/required_capability.js';
import { writeTinyRotaryBert, type RotaryBertFamily, type TinyRotaryBertOptions } from '../helpers/rotary_bert_fixture.js';
import { assertRowsClose, WHOLE_MODEL_INIT_STD, WorstErrors, type RowTolerance } from '../helpers/whole_model.js';
import { webGpuProbe } from '../kernels/webgpu_support.js';

// Bounds on each pooled row against the float64 reference, hidden 32, 2 layers, drawn with std WHOLE_MODEL_INIT_STD.
// f32 weights and math on lavapipe (Mesa 25, llvmpipe): measured worst 1 - cos 2.4e-14, max abs 5.3e-7 (inputs up to
// 130 tokens) and 1 - cos 1.2e-13, max abs 2.2e-7 with positions up to 1000 (the WGSL rope forms its angles in f32:
// rope.wgsl's precision note). The project's float32 bar, as for BERT on WebGPU and the native engine.
const F32: RowTolerance = { cosineDistance: 1e-9, maxAbs: 3e-5 };

const worst = new WorstErrors('webgpu rotary BERT');
const FAMILY_OPTIONS: Record<RotaryBertFamily, TinyRotaryBertOptions> = {
  nomic_bert: { typeVocabSize: 2 },
  gte: { typeVocabSize: 0, ntkFactor: 2 },
};

function tokens(length: number, salt: number, vocabSize: number): number[] {
  return Array.from({ length }, (_, i) => (i * 31 + salt * 17 + 1) % vocabSize);
}

const probe = await webGpuProbe();
if (!probe.available) {
  missingCapability('webgpu', `no WebGPU adapter: ${probe.reason}`);
} else {
  for (const family of ['nomic_bert', 'gte'] as const) {
    describe(`webgpu ${family}: whole model against the float64 reference`, () => {
      const dirs: string[] = [];
      let model: LoadedModel;
      let reference: ReferenceBackend;
      let backend: WebGpuBackend;
      const inputs: number[][] = [];
      before(async () => {
        const dir = await mkdtemp(join(tmpdir(), `webgpu-${family}-`));
        dirs.push(dir);
        await writeTinyRotaryBert(dir, family, { initScale: WHOLE_MODEL_INIT_STD, ...FAMILY_OPTIONS[family] });
        model = await loadModel(dir);
        reference = await ReferenceBackend.create(model);
        backend = await WebGpuBackend.create(model);
        const { vocabSize } = model.config;
        inputs.push(tokens(1, 1, vocabSize), tokens(9, 2, vocabSize), tokens(40, 3, vocabSize), tokens(130, 4, vocabSize));
      });
      after(async () => {
        await backend?.dispose();
        for (const dir of dirs) await rm(dir, { recursive: true, force: true });
      });

      it('f32: CLS and MEAN pooling, normalized or not, Matryoshka dimensions, token types', async () => {
        for (const pooling of ['cls', 'mean'] as const) {
          const plain = buildRaggedBatch(inputs, {
            pooling,
            normalize: inputs.map((_, i) => i % 2 === 0),
            dimensions: inputs.map((_, i) => (i === 2 ? 16 : 0)),
          });
          // Second half of each input in segment 1; GTE (no token type table) ignores them, as NewEmbeddings does.
          const batch: RaggedBatch = { ...plain, tokenTypeIds: Int32Array.from(inputs.flatMap((ids) => ids.map((_, p) => (p > ids.length / 2 ? 1 : 0)))) };
          assertRowsClose(await backend.forward(batch), reference.forward64(batch), F32, `${family} ${pooling}`, { errors: worst, key: family });
        }
      });

      it('f32: positions up to 1000 (one 1001-token input) batched with a short one', async () => {
        const batch = buildRaggedBatch([tokens(1001, 7, model.config.vocabSize), tokens(5, 8, model.config.vocabSize)], {
          pooling: 'mean',
          normalize: [true, true],
          dimensions: [0, 0],
        });
        assertRowsClose(await backend.forward(batch), reference.forward64(batch), F32, `${family} long`, { errors: worst, key: `${family} 1001 tokens` });
      });

      it('a text alone = the same text inside a mixed batch (bitwise)', async () => {
        const together = await backend.forward(
          buildRaggedBatch(inputs, { pooling: 'mean', normalize: inputs.map(() => true), dimensions: inputs.map(() => 0) }),
        );
        for (const [i, input] of inputs.entries()) {
          const [alone] = await backend.forward(buildRaggedBatch([input], { pooling: 'mean', normalize: [true], dimensions: [0] }));
          assert.deepEqual(alone, together[i], `input ${i}`);
        }
      });
    });
  }
}
