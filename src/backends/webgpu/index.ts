// Public surface of the WebGPU backend.
export { createWebGpuBackend, WebGpuBackend, type WebGpuBackendOptions, type WebGpuBackendInfo, DEFAULT_MAX_BATCH_TOKENS } from './backend.js';
export { WebGpuQwen3Backend, type WebGpuQwen3Options } from './qwen3_backend.js';
export { WebGpuContext, probeWebGpu, adapterDisplayName, type WebGpuDeviceOptions, type ProbeResult } from './device.js';
export { WebGpuOps, type PreparedOp, type LinearOptions } from './ops.js';
export { WebGpuError, WebGpuDeviceLostError } from './errors.js';
export type { WeightType } from './shader_source.js';
