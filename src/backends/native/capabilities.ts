// What the native CPU backend runs, answered without loading the addon. NATIVE_FAMILIES is the per-family map:
// ./backend.ts keeps one creator per key (the compiler checks the two agree), each family's graph lives in
// native/engine/graphs/ and its TypeScript side in ./<family>_backend.ts.
import { BERT } from '../../model/architectures/bert/spec.js';
import { QWEN3 } from '../../model/architectures/qwen3/spec.js';
import type { BackendCapabilities } from '../backend.js';
import { capabilitiesFrom, type FamilySupport } from '../capabilities.js';

export const NATIVE_FAMILIES = {
  [BERT.name]: { pagedKv: false },
  [QWEN3.name]: { pagedKv: true }, // NativeQwen3Backend: a float32 KV cache in the engine
} as const satisfies Record<string, FamilySupport>;

export type NativeFamilyName = keyof typeof NATIVE_FAMILIES;

export const capabilities: BackendCapabilities = capabilitiesFrom({
  name: 'cpu',
  families: NATIVE_FAMILIES,
  // The C++ engine has float32 and bfloat16 weight paths; float16 checkpoints convert at load into either.
  dtypes: ['float32', 'bfloat16'],
  dtypesNote: 'float32 and bfloat16',
});
