// What the WebGPU backend runs, answered without opening a device. WEBGPU_FAMILIES is the per-family map: ./backend.ts
// keeps one creator per key (the compiler checks the two agree); each family has its own encoder class.
import { BERT } from '../../model/architectures/bert/spec.js';
import { QWEN3 } from '../../model/architectures/qwen3/spec.js';
import type { BackendCapabilities } from '../backend.js';
import { capabilitiesFrom, type FamilySupport } from '../capabilities.js';

export const WEBGPU_FAMILIES = {
  [BERT.name]: { pagedKv: false }, // WebGpuBackend (./backend.ts, ./bert_encoder.ts)
  [QWEN3.name]: { pagedKv: true }, // WebGpuQwen3Backend (./qwen3_backend.ts): f32 K/V buffers per layer
} as const satisfies Record<string, FamilySupport>;

export type WebGpuFamilyName = keyof typeof WEBGPU_FAMILIES;

export const capabilities: BackendCapabilities = capabilitiesFrom({
  name: 'webgpu',
  families: WEBGPU_FAMILIES,
  // WGSL has f32 and (with shader-f16, checked when the device opens) f16, but no bfloat16 type.
  dtypes: ['float32', 'float16'],
  dtypesNote: 'float32 and float16 (needs shader-f16)',
});
