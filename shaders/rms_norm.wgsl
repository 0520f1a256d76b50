// rms_norm: y[r] = weight * (x[r] / sqrt(mean(x[r]^2) + eps)) over each row of COLS values (Qwen3RMSNorm: no mean
// subtraction, no bias, eps inside the square root, the statistic in f32). Used with COLS = hidden_size for
// input_layernorm / post_attention_layernorm / norm, and with COLS = head_dim over [T * heads, head_dim] rows for the
// per-head q_norm / k_norm (Qwen3Attention normalizes each head before RoPE).
//
// Bindings (group 0):
//   0 x       array<f32> [rows, COLS], read
//   1 weight  array<f32> [COLS], read
//   2 y       array<f32> [rows, COLS], read_write (a different buffer from x)
//   3 params  uniform {rows, eps}
// Workgroup size: WORKGROUP_SIZE (128 for hidden rows; the host picks the smallest power of two >= COLS, at most
//   128, for head rows so a 16-value head does not idle 112 invocations). One workgroup per row.
// Dispatch: (min(rows, 65535), ceil(rows / 65535), 1); row = workgroup_id.x + workgroup_id.y * num_workgroups.x.
// Tiling: invocations stride over the row's columns (coalesced); per-lane f32 sums of squares, then a shared-memory
//   tree sum (fragments/workgroup_sum.wgsl).
// Override constants: COLS (required), WORKGROUP_SIZE (128, a power of two).

struct RmsNormParams {
  rows: u32,
  eps: f32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: RmsNormParams;

override COLS: u32;
override WORKGROUP_SIZE: u32 = 128u;

// @include workgroup_sum.wgsl

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
  let base = row * COLS;
  var squares = 0.0;
  for (var c = lane; c < COLS; c += WORKGROUP_SIZE) {
    let value = x[base + c];
    squares = fma(value, value, squares);
  }
  let inverse_rms = inverseSqrt(workgroup_sum(squares, lane) / f32(COLS) + params.eps);
  for (var c = lane; c < COLS; c += WORKGROUP_SIZE) {
    y[base + c] = weight[c] * (x[base + c] * inverse_rms);
  }
}
