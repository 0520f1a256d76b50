// swiglu: Qwen3MLP's act_fn(gate_proj(x)) * up_proj(x) with act_fn = SiLU: y = g / (1 + exp(-g)) * u. The gate and up
// projections run as one GEMM over the concatenated weight [gate_proj; up_proj] ([2I, H]), so each row of its output
// holds the I gate values, then the I up values.
//
// Bindings (group 0):
//   0 gate_up array<f32> [T, 2 * I], read
//   1 y       array<f32> [T, I], read_write
//   2 params  uniform {num_tokens, intermediate}
// Workgroup size: WORKGROUP_SIZE (256), one invocation per output value.
// Dispatch: grid of ceil(T * I / 256) workgroups, (min(count, 65535), ceil(count / 65535), 1).
// Tiling: none (elementwise; consecutive invocations read consecutive gate and up values: coalesced).
// Override constants: WORKGROUP_SIZE (256).
// Precision: f32; exp(-g) overflows to +inf for g < -88, giving g / inf = -0, the limit of SiLU.

struct SwigluParams {
  num_tokens: u32,
  intermediate: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<storage, read> gate_up: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: SwigluParams;

override WORKGROUP_SIZE: u32 = 256u;

@compute @workgroup_size(WORKGROUP_SIZE, 1, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let index = id.x + id.y * groups.x * WORKGROUP_SIZE;
  let width = params.intermediate;
  if (index >= params.num_tokens * width) {
    return;
  }
  let t = index / width;
  let c = index % width;
  let g = gate_up[t * 2u * width + c];
  let u = gate_up[t * 2u * width + width + c];
  y[index] = g / (1.0 + exp(-g)) * u;
}
