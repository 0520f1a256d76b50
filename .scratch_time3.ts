import { WebGpuOps } from './src/backends/webgpu/ops.js';
const x = new Float32Array(64 * 64).fill(0.5);
for (let round = 0; round < 3; round++) {
  let t = performance.now();
  const ops = await WebGpuOps.create();
  console.log('create', (performance.now() - t).toFixed(1));
  t = performance.now(); await ops.linear(x, 64, 64, x, null, 64); console.log('linear', (performance.now() - t).toFixed(1));
  t = performance.now(); await ops.dispose(); console.log('dispose', (performance.now() - t).toFixed(1));
}
