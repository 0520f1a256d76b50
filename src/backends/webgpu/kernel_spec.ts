// What the pipeline cache needs to know about a kernel: its file, whether it reads weights (and so has an f16
// variant), and its bindings in order, from which the explicit bind group layout is built. Each kernel module in
// kernels/ exports one of these; the binding list mirrors the header comment of its .wgsl file.

/** 'read' = read-only storage, 'write' = read_write storage, 'uniform' = uniform buffer. */
export type BindingKind = 'read' | 'write' | 'uniform';

export type KernelName =
  | 'gemm'
  | 'gemm_residual_layernorm'
  | 'layer_norm'
  | 'activation'
  | 'embeddings'
  | 'attention'
  | 'pooling'
  | 'rms_norm'
  | 'rope'
  | 'gated_activation'
  | 'kv_write'
  | 'paged_attention';

export interface KernelSpec {
  readonly name: KernelName;
  readonly file: string;
  readonly readsWeights: boolean;
  readonly bindings: readonly BindingKind[];
}

/** Override constants of one pipeline; booleans are passed as 0 / 1 as WebGPU specifies. */
export type OverrideConstants = Readonly<Record<string, number>>;

/** The typed cache key of a compute pipeline. */
export interface PipelineKey {
  readonly kernel: KernelSpec;
  readonly weightType: 'f32' | 'f16';
  readonly constants: OverrideConstants;
}

export function pipelineKeyString(key: PipelineKey): string {
  const constants = Object.keys(key.constants)
    .sort()
    .map((name) => `${name}=${key.constants[name]}`)
    .join(',');
  const weightType = key.kernel.readsWeights ? key.weightType : 'f32';
  return `${key.kernel.name}/${weightType}/${constants}`;
}
