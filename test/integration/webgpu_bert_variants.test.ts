// The WebGPU backend on the BERT-variant families, which run BERT's encoder with their differences as data:
// XLM-RoBERTa (bge-m3's layout: positions from pad_token_id + 1, 8194 of them, a 250k-row word table gathered on the GPU
// or, forced, on the CPU) and ERNIE (text2vec-base-chinese-sentence's layout: task_type_embeddings[0] folded into the
// token-type table at upload). Each against the float64 reference, which adds the task-type row literally.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildRaggedBatch } from '../../src/backends/backend.js';
import { ReferenceBackend } from '../../src/backends/reference/backend.js';
import { WebGpuBackend } from '../../src/backends/webgpu/backend.js';
import { firstPositionOf, maxSequenceTokens } from '../../src/model/architectures/registry.js';
import { loadModel } from '../../src/model/load.js';
import { tensorToFloat32 } from '../../src/model/tensor_data.js';
import { fixtureModel, type FixtureName } from '../fixtures/generate.js';
import { missingCapability } from '../helpers/required_capability.js';
import { assertRowsClose, WHOLE_MODEL_INIT_STD, WorstErrors, type RowTolerance } from '../helpers/whole_model.js';
import { seededInts, webGpuProbe } from '../kernels/webgpu_support.js';

// BERT's bounds (webgpu_backend.test.ts: same encoder, same kernels). Measured worst on these 2-layer fixtures on
// lavapipe (Mesa llvmpipe): f32 1 - cos 2.1e-14, max abs 3.5e-7; f16 weights 4.4e-8 and 5.0e-4.
const F32: RowTolerance = { cosineDistance: 1e-9, maxAbs: 3e-5 };
const F16: RowTolerance = { cosineDistance: 5e-7, maxAbs: 3e-3 };
const SHRINK = { numLayers: 2, hiddenSize: 32, numHeads: 4, intermediateSize: 64 };

const worst = new WorstErrors('webgpu BERT variants');

const probe = await webGpuProbe();
if (!probe.available) {
  missingCapability('webgpu', `no WebGPU adapter: ${probe.reason}`);
} else {
  for (const name of ['bge-m3', 'text2vec-chinese'] as const satisfies readonly FixtureName[]) {
    describe(`webgpu backend vs reference: ${name}`, () => {
      it('f32 and f16 weights, GPU and CPU word gather, every pooling, up to the last position', async () => {
        const model = await loadModel(await fixtureModel(name, { shrink: SHRINK, initStd: WHOLE_MODEL_INIT_STD }));
        const reference = await ReferenceBackend.create(model);
        const V = model.config.vocabSize;
        const first = firstPositionOf(model.config);
        // Ids clear of 0..3 (the stand-in tokenizers' specials; RoBERTa's pad is 1).
        const ids = (length: number, seed: number) => Array.from(seededInts(length, seed, V - 4), (id) => id + 4);
        const typeTableBefore = Float32Array.from(tensorToFloat32(model.weights.get('embeddings.token_type_embeddings.weight')!));
        for (const [label, opts, tolerance] of [
          ['f32', { weightType: 'f32' }, F32],
          ['f32 cpu gather', { weightType: 'f32', forceCpuWordGather: true }, F32],
          ['f16', { weightType: 'auto' }, F16],
        ] as const) {
          const backend = await WebGpuBackend.create(model, opts);
          try {
            const tolerated = backend.info.weightType === 'f16' ? F16 : tolerance;
            for (const pooling of ['cls', 'mean', 'last'] as const) {
              const batch = buildRaggedBatch([ids(5, 1), ids(1, 2), ids(70, 3)], {
                pooling,
                normalize: [true, false, true],
                dimensions: [0, 16, 0],
                positionOffset: first,
              });
              assertRowsClose(await backend.forward(batch), reference.forward64(batch), tolerated, `${name} ${label} ${pooling}`, {
                errors: worst,
                key: `${name} ${backend.info.weightType}`,
              });
            }
            // The last rows of the position table (RoBERTa: first + maxSequenceTokens - 1 = max_position_embeddings - 1).
            const tail = buildRaggedBatch([ids(24, 4)], { pooling: 'mean', normalize: [true], positionOffset: first + maxSequenceTokens(model.config) - 24 });
            assert.equal(tail.positions[23], model.config.maxPositionEmbeddings - 1);
            assertRowsClose(await backend.forward(tail), reference.forward64(tail), tolerated, `${name} ${label} last positions`, {
              errors: worst,
              key: `${name} ${backend.info.weightType}`,
            });
          } finally {
            await backend.dispose();
          }
        }
        // Folding ERNIE's task row at upload works on a copy: the checkpoint's bytes are untouched.
        assert.deepEqual(tensorToFloat32(model.weights.get('embeddings.token_type_embeddings.weight')!), typeTableBefore);
      });
    });
  }
}
