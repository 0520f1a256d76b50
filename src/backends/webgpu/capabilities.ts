// What the WebGPU backend runs, answered without opening a device: the encoder families listed in ./encoders/index.ts,
// and Qwen3 on its paged decoder backend (./qwen3_backend.ts: f32 K/V buffers per layer).
import { QWEN3 } from '../../model/architectures/qwen3/spec.js';
import type { BackendCapabilities } from '../backend.js';
import { capabilitiesFrom, type FamilySupport } from '../capabilities.js';
import { WEBGPU_ENCODERS } from './encoders/index.js';

export const WEBGPU_FAMILIES: Readonly<Record<string, FamilySupport>> = {
  ...Object.fromEntries(WEBGPU_ENCODERS.map((encoder) => [encoder.spec.name, { pagedKv: false }])),
  [QWEN3.name]: { pagedKv: true },
};

export const capabilities: BackendCapabilities = capabilitiesFrom({
  name: 'webgpu',
  families: WEBGPU_FAMILIES,
  // WGSL has f32 and (with shader-f16, checked when the device opens) f16, but no bfloat16 type.
  dtypes: ['float32', 'float16'],
  dtypesNote: 'float32 and float16 (needs shader-f16)',
});
