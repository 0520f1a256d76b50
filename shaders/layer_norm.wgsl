// layer_norm: y[r] = (x[r] - mean) / sqrt(var + eps) * gamma + beta over each row of HIDDEN values
// (torch.nn.LayerNorm: biased variance, eps inside the square root). Standalone, for the unfused composition
// (gemm with EPILOGUE = 2, then this) and op-level use; the encoder uses the fused gemm_residual_layernorm.
//
// Bindings (group 0):
//   0 x         array<f32> [rows, HIDDEN], read
//   1 ln_params array<f32> [2 * HIDDEN]: gamma then beta, read
//   2 y         array<f32> [rows, HIDDEN], read_write
//   3 params    uniform {rows, eps}
// Workgroup size: WORKGROUP_SIZE (128), one workgroup per row.
// Dispatch: (min(rows, 65535), ceil(rows / 65535), 1); row = workgroup_id.x + workgroup_id.y * num_workgroups.x.
// Tiling: the row is staged once in shared memory (row_values, HIDDEN floats); the invocations stride over it
//   (consecutive invocations, consecutive columns: coalesced), then two reductions give the mean and the
//   variance about it (two-pass, as the reference computes it; fragments/layer_norm_row.wgsl).
// Override constants: HIDDEN (required), WORKGROUP_SIZE (128, a power of two).

struct LayerNormParams {
  rows: u32,
  eps: f32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> ln_params: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: LayerNormParams;

override HIDDEN: u32;
override WORKGROUP_SIZE: u32 = 128u;

// @include workgroup_sum.wgsl
// @include layer_norm_row.wgsl

@compute @workgroup_size(WORKGROUP_SIZE, 1, 1)
fn main(
  @builtin(workgroup_id) group: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lane: u32,
) {
  let row = group.x + group.y * groups.x;
  // Whole workgroups leave together, before any barrier, so control flow stays uniform.
  if (row >= params.rows) {
    return;
  }
  let base = row * HIDDEN;
  var sum = 0.0;
  for (var c = lane; c < HIDDEN; c += WORKGROUP_SIZE) {
    let value = x[base + c];
    row_values[c] = value;
    sum += value;
  }
  layer_norm_staged_row(sum, lane, base, params.eps);
}
