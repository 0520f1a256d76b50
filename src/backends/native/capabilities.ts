// What the native CPU backend runs, answered without loading the addon: the families listed in ./graphs/index.ts,
// each paged (a KV cache in the engine) exactly when its spec declares one.
import type { BackendCapabilities } from '../backend.js';
import { capabilitiesFrom, type FamilySupport } from '../capabilities.js';
import { NATIVE_GRAPHS } from './graphs/index.js';

export const NATIVE_FAMILIES: Readonly<Record<string, FamilySupport>> = Object.fromEntries(
  NATIVE_GRAPHS.map((graph) => [graph.spec.name, { pagedKv: graph.spec.kvBytesPerToken !== null }]),
);

export const capabilities: BackendCapabilities = capabilitiesFrom({
  name: 'cpu',
  families: NATIVE_FAMILIES,
  // The C++ engine has float32 and bfloat16 weight paths; float16 checkpoints convert at load into either.
  dtypes: ['float32', 'bfloat16'],
  dtypesNote: 'float32 and bfloat16',
  // int8 GEMMs (native/kernels/cpu/gemm_int8.cpp) in every graph: the graphs pack their GEMM weights generically.
  quantizations: ['int8'],
});
