// Fragment, no entry point: the LayerNorm tail of the one-workgroup-per-row kernels (layer_norm.wgsl and
// embeddings.wgsl): mean, variance about it (two passes, as the reference computes it), normalize, scale, shift.
// The loader pastes this file where a kernel says `// @include layer_norm_row.wgsl`.
//
// Expects from the including kernel:
//   bindings  ln_params: array<f32> [2 * HIDDEN] (gamma then beta), y: array<f32> read_write;
//   overrides HIDDEN (the row length) and WORKGROUP_SIZE (a power of two);
//   workgroup size @workgroup_size(WORKGROUP_SIZE, 1, 1), one workgroup per row;
//   `// @include workgroup_sum.wgsl` as well (fragments do not include fragments).
// Declares: the workgroup row buffer row_values (HIDDEN floats) and layer_norm_staged_row.

var<workgroup> row_values: array<f32, HIDDEN>;

// Normalizes the row that the workgroup has staged in row_values and writes it to y[out_base ..][0, HIDDEN).
// Invocation `lane` staged columns lane, lane + WORKGROUP_SIZE, ... and passes their sum. Every invocation of the
// workgroup must call it in uniform control flow (it holds barriers).
fn layer_norm_staged_row(sum: f32, lane: u32, out_base: u32, eps: f32) {
  let mean = workgroup_sum(sum, lane) / f32(HIDDEN);
  var squares = 0.0;
  for (var c = lane; c < HIDDEN; c += WORKGROUP_SIZE) {
    let deviation = row_values[c] - mean;
    squares = fma(deviation, deviation, squares);
  }
  let inverse_std = inverseSqrt(workgroup_sum(squares, lane) / f32(HIDDEN) + eps);
  for (var c = lane; c < HIDDEN; c += WORKGROUP_SIZE) {
    y[out_base + c] = fma((row_values[c] - mean) * inverse_std, ln_params[c], ln_params[HIDDEN + c]);
  }
}
