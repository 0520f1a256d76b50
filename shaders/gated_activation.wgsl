// gated_activation: the GLU family's y = act(a) * b over the two halves of each row of one fused projection [T, 2I]
// (SwiGLU of Qwen3MLP: act = SiLU, a = gate_proj first; GeGLU of ModernBertMLP: act = exact GELU, a = the first half
// of Wi's output; NomicBERT / GTE activate the second half). ACTIVATED_HALF says which half is a.
//
// Bindings (group 0):
//   0 packed  array<f32> [T, 2 * I], read
//   1 y       array<f32> [T, I], read_write
//   2 params  uniform {num_tokens, intermediate}
// Workgroup size: WORKGROUP_SIZE (256), one invocation per output value.
// Dispatch: grid of ceil(T * I / 256) workgroups, (min(count, 65535), ceil(count / 65535), 1).
// Tiling: none (elementwise; consecutive invocations read consecutive values of each half: coalesced).
// Override constants: ACTIVATION (4 = SiLU; 1 = exact GELU, 2 = tanh GELU, codes of
//   fragments/activation_functions.wgsl), ACTIVATED_HALF (0 = first, 1 = second), WORKGROUP_SIZE (256).
// Precision: f32; SiLU's exp(-x) overflows to +inf for x < -88, giving x / inf = -0, the limit of SiLU.

struct GatedActivationParams {
  num_tokens: u32,
  intermediate: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<storage, read> packed: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: GatedActivationParams;

override ACTIVATION: u32 = 4u;
override ACTIVATED_HALF: u32 = 0u;
override WORKGROUP_SIZE: u32 = 256u;

// @include activation_functions.wgsl

@compute @workgroup_size(WORKGROUP_SIZE, 1, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let index = id.x + id.y * groups.x * WORKGROUP_SIZE;
  let width = params.intermediate;
  if (index >= params.num_tokens * width) {
    return;
  }
  let t = index / width;
  let c = index % width;
  let first = packed[t * 2u * width + c];
  let second = packed[t * 2u * width + width + c];
  let a = select(second, first, ACTIVATED_HALF == 0u);
  let b = select(first, second, ACTIVATED_HALF == 0u);
  y[index] = apply_activation(a, ACTIVATION) * b;
}
