import { fixtureModel } from './test/fixtures/generate.js';
import { loadModel } from './src/model/load.js';
import { ReferenceBackend } from './src/backends/reference/backend.js';
import { WebGpuBackend } from './src/backends/webgpu/backend.js';
import { buildRaggedBatch } from './src/backends/backend.js';
const t0 = Date.now();
const dir = await fixtureModel('bge-small', { shrink: { numLayers: 2, hiddenSize: 64, numHeads: 4, intermediateSize: 96 } });
const model = await loadModel(dir);
console.log('loaded', Date.now() - t0, model.config);
const ref = await ReferenceBackend.create(model);
for (const fusion of ['fused', 'separate'] as const) {
  const gpu = await WebGpuBackend.create(model, { layerNormFusion: fusion });
  console.log(gpu.info, Date.now() - t0);
  const seqs = [[101, 2023, 102], [101], Array.from({ length: 70 }, (_, i) => (i * 37) % 30000)];
  const batch = buildRaggedBatch(seqs, { pooling: 'cls', normalize: [true, true, false], dimensions: [0, 16, 0] });
  const a = await gpu.forward(batch);
  const b = ref.forward64(batch);
  const cos = (x: ArrayLike<number>, y: ArrayLike<number>) => { let d = 0, nx = 0, ny = 0; for (let i = 0; i < x.length; i++) { d += x[i] * y[i]; nx += x[i] ** 2; ny += y[i] ** 2; } return d / Math.sqrt(nx * ny); };
  console.log(fusion, a.map((r, i) => [r.length, 1 - cos(r, b[i])]), Date.now() - t0);
  await gpu.dispose();
}
