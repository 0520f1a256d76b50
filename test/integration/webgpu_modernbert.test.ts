// ModernBERT on the WebGPU backend (lavapipe here) against the float64 reference: the shrunk derived ModernBERT-base
// fixture (4 layers: 0 and 3 global, 1 and 2 sliding-window with local_attention 128), sequences shorter and longer
// than the window mixed in one batch, every pooling, dimensions and normalize, f16 weights, token rows gathered on the
// CPU, a 1024-token input, and a sequence alone = inside a batch.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { buildRaggedBatch } from '../../src/backends/backend.js';
import { ReferenceBackend } from '../../src/backends/reference/backend.js';
import { WebGpuBackend, type WebGpuBackendOptions } from '../../src/backends/webgpu/backend.js';
import type { LoadedModel, PoolingMode } from '../../src/model/types.js';
import { loadModernBertFixture, modernBertTokens } from '../helpers/modernbert_fixture.js';
import { missingCapability } from '../helpers/required_capability.js';
import { assertRowClose, type RowTolerance, WorstErrors } from '../helpers/whole_model.js';
import { webGpuProbe } from '../kernels/webgpu_support.js';

// Bounds on each pooled row against the float64 reference (fixture std WHOLE_MODEL_INIT_STD). f32 weights and f32
// math on lavapipe: measured worst 1 - cos 1.5e-13 (up to 300 tokens) and 3.6e-12 (1024 tokens), max abs 1.5e-6, the
// native engine's order; the bounds are the BERT WebGPU test's (webgpu_backend.test.ts F32). RoPE angles are f32 on
// the GPU (rope.wgsl's precision note), as upstream's are. f16 weights: measured worst 1 - cos 1.1e-7, max abs
// 1.7e-4 (the weights' rounding, 2^-11 relative); the bounds are the BERT WebGPU test's F16.
const F32: RowTolerance = { cosineDistance: 1e-9, maxAbs: 3e-5 };
const F16: RowTolerance = { cosineDistance: 5e-7, maxAbs: 3e-3 };
const LENGTHS = [1, 5, 65, 130, 300];
const INPUTS = LENGTHS.map((length, i) => modernBertTokens(length, 31 + i));

const probe = await webGpuProbe();
if (!probe.available) {
  missingCapability('webgpu', `no WebGPU adapter: ${probe.reason}`);
} else {
  const worst = new WorstErrors('webgpu ModernBERT');
  let loaded: Promise<LoadedModel> | null = null;
  const model = (): Promise<LoadedModel> => (loaded ??= loadModernBertFixture('F32'));
  const open: WebGpuBackend[] = [];
  const backend = async (opts: WebGpuBackendOptions = {}): Promise<WebGpuBackend> => {
    const created = await WebGpuBackend.create(await model(), opts);
    open.push(created);
    return created;
  };
  after(async () => {
    for (const b of open) await b.dispose();
  });

  describe('webgpu ModernBERT vs the float64 reference', () => {
    for (const pooling of ['cls', 'mean', 'last'] as PoolingMode[]) {
      it(`f32 weights, ${pooling} pooling: lengths [${LENGTHS.join(', ')}] in one batch`, async () => {
        const reference = await ReferenceBackend.create(await model());
        const gpu = await backend();
        const batch = buildRaggedBatch(INPUTS, { pooling, dimensions: INPUTS.map((_, i) => (i % 2 ? 32 : 0)), normalize: INPUTS.map((_, i) => i % 2 === 1) });
        const want = reference.forward64(batch);
        const got = await gpu.forward(batch);
        got.forEach((row, i) => assertRowClose(row, want[i], F32, `row ${i} (${LENGTHS[i]} tokens)`, { errors: worst, key: 'f32' }));
      });
    }

    it('f16 weights (when the adapter has shader-f16) and token rows gathered on the CPU', async (t) => {
      const reference = await ReferenceBackend.create(await model());
      const batch = buildRaggedBatch(INPUTS, { pooling: 'mean', normalize: INPUTS.map(() => true) });
      const want = reference.forward64(batch);
      const gathered = await backend({ forceCpuWordGather: true });
      assert.equal(gathered.info.wordRowsGatheredOnCpu, true);
      (await gathered.forward(batch)).forEach((row, i) => assertRowClose(row, want[i], F32, `CPU-gathered rows, row ${i}`, { errors: worst, key: 'f32' }));
      const gpu = await backend({ weightType: 'auto' });
      if (gpu.info.weightType !== 'f16') {
        t.diagnostic(`adapter has no shader-f16: f16 weights not run`);
        return;
      }
      (await gpu.forward(batch)).forEach((row, i) => assertRowClose(row, want[i], F16, `f16 weights, row ${i}`, { errors: worst, key: 'f16' }));
    });

    it('a 1024-token input batched with a short one; a sequence alone = inside the batch', async () => {
      const reference = await ReferenceBackend.create(await model());
      const gpu = await backend();
      const long = modernBertTokens(1024, 5);
      const batch = buildRaggedBatch([INPUTS[1], long], { pooling: 'last', normalize: [true, true] });
      const want = reference.forward64(batch);
      const got = await gpu.forward(batch);
      got.forEach((row, i) => assertRowClose(row, want[i], F32, `row ${i}`, { errors: worst, key: 'f32 1024 tokens' }));
      const [alone] = await gpu.forward(buildRaggedBatch([INPUTS[1]], { pooling: 'last', normalize: [true] }));
      assert.deepEqual(alone, got[0]);
    });
  });
}
