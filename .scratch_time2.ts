import { WebGpuOps } from './src/backends/webgpu/ops.js';
let t = performance.now();
const ops = await WebGpuOps.create();
console.log('create', (performance.now() - t).toFixed(1));
const x = new Float32Array(64 * 64).fill(0.5);
for (const ep of [{ kind: 'bias' }, { kind: 'activation', activation: 'gelu' }, { kind: 'activation', activation: 'gelu' }] as const) {
  t = performance.now(); const p = await ops.prepareLinear(x, 64, 64, x, x.subarray(0, 64), 64, { epilogue: ep }); console.log('prepare', (performance.now() - t).toFixed(1));
  t = performance.now(); await p.run(1); console.log('run1', (performance.now() - t).toFixed(1));
  t = performance.now(); await p.run(1); console.log('run2', (performance.now() - t).toFixed(1));
}
t = performance.now(); await ops.layerNorm(x, 64, 64, x.subarray(0, 64), x.subarray(0, 64), 1e-5); console.log('ln', (performance.now() - t).toFixed(1));
t = performance.now(); await ops.attention(x, x, x, [0, 10, 64], 4, 16); console.log('attn', (performance.now() - t).toFixed(1));
await ops.dispose();
