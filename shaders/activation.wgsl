// activation: y[i] = act(x[i]) elementwise. Standalone, for the unfused composition (gemm, then this) and
// op-level use; the encoder fuses the activation into gemm.wgsl's epilogue.
//
// Bindings (group 0):
//   0 x      array<f32> [count], read
//   1 y      array<f32> [count], read_write
//   2 params uniform {count}
// Workgroup size: WORKGROUP_SIZE (256).
// Dispatch: (min(g, 65535), ceil(g / 65535), 1) with g = ceil(count / WORKGROUP_SIZE); consecutive invocations
//   touch consecutive elements (coalesced).
// Override constants: ACTIVATION (0; codes in fragments/activation_functions.wgsl), WORKGROUP_SIZE (256).

struct ActivationParams {
  count: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: ActivationParams;

override ACTIVATION: u32 = 0u;
override WORKGROUP_SIZE: u32 = 256u;

// @include activation_functions.wgsl

@compute @workgroup_size(WORKGROUP_SIZE, 1, 1)
fn main(
  @builtin(workgroup_id) group: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lane: u32,
) {
  let index = (group.x + group.y * groups.x) * WORKGROUP_SIZE + lane;
  if (index < params.count) {
    y[index] = apply_activation(x[index], ACTIVATION);
  }
}
