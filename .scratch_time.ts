import { fixtureModel } from './test/fixtures/generate.js';
import { loadModel } from './src/model/load.js';
import { WebGpuBackend } from './src/backends/webgpu/backend.js';
import { WebGpuOps } from './src/backends/webgpu/ops.js';
import { buildRaggedBatch } from './src/backends/backend.js';
const dir = await fixtureModel('bge-small', { shrink: { numLayers: 2, hiddenSize: 64, numHeads: 4, intermediateSize: 96 } });
const model = await loadModel(dir);
const gpu = await WebGpuBackend.create(model, {});
const batch = buildRaggedBatch([[101, 2023, 102], [101]], { pooling: 'cls' });
for (let i = 0; i < 4; i++) { const t = performance.now(); await gpu.forward(batch); console.log('forward', (performance.now() - t).toFixed(1)); }
await gpu.dispose();
const ops = await WebGpuOps.create();
const x = new Float32Array(64 * 64).fill(0.5);
for (let i = 0; i < 3; i++) { const t = performance.now(); await ops.linear(x, 64, 64, x, null, 64); console.log('linear', (performance.now() - t).toFixed(1)); }
const p = await ops.prepareLinear(x, 64, 64, x, null, 64);
for (let i = 0; i < 3; i++) { const t = performance.now(); await p.run(1); console.log('run', (performance.now() - t).toFixed(1)); }
for (let i = 0; i < 3; i++) { const t = performance.now(); await p.read(); console.log('read', (performance.now() - t).toFixed(1)); }
await ops.dispose();
