// gemm: y = epilogue(x * w^T + bias), the torch.nn.Linear product, with the elementwise tail fused in.
//
// Bindings (group 0):
//   0 x        array<f32>        [M, K] row-major, read
//   1 w        array<weight_t>   [N, K] row-major (Linear weight as checkpoints store it), read
//   2 bias     array<f32>        [N], read; unused when HAS_BIAS is false (bind any buffer)
//   3 residual array<f32>        [M, N], read; used only when EPILOGUE = 2 (bind any buffer otherwise)
//   4 y        array<f32>        [M, N], read_write
//   5 params   uniform GemmParams {m, n, k}
// Workgroup size: (TILE_N / MICRO_N, TILE_M / MICRO_M), 16 x 16 = 256 invocations with the defaults.
// Dispatch: (ceil(N / TILE_N), ceil(M / TILE_M), 1).
// Tiling: a workgroup owns a TILE_M x TILE_N block of y and walks K in TILE_K slices (fragments/gemm_tile.wgsl:
//   k-major padded shared-memory tiles, coalesced loads, no bank conflicts). Invocation (tx, ty) computes the
//   MICRO_M x MICRO_N outputs at rows ty + i * (TILE_M / MICRO_M) and columns tx + j * (TILE_N / MICRO_N), so the
//   final stores of a warp are contiguous.
// Override constants:
//   TILE_M (64), TILE_N (64), TILE_K (16), MICRO_M (4), MICRO_N (4): MICRO_* <= 8 and divide TILE_*;
//   HAS_BIAS (true);
//   EPILOGUE (0): 0 = bias only, 1 = bias then ACTIVATION, 2 = bias + residual;
//   ACTIVATION (0): activation code from fragments/activation_functions.wgsl, used when EPILOGUE = 1.
// Precision: weights are f32 or f16 (weight_t, chosen by the loader); products and sums are f32.

alias weight_t = f32;

struct GemmParams {
  m: u32,
  n: u32,
  k: u32,
  _pad: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<weight_t>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> residual: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<uniform> params: GemmParams;

override TILE_M: u32 = 64u;
override TILE_N: u32 = 64u;
override TILE_K: u32 = 16u;
override MICRO_M: u32 = 4u;
override MICRO_N: u32 = 4u;
override HAS_BIAS: bool = true;
override EPILOGUE: u32 = 0u;
override ACTIVATION: u32 = 0u;

const EPILOGUE_ACTIVATION: u32 = 1u;
const EPILOGUE_RESIDUAL: u32 = 2u;

// @include gemm_tile.wgsl

// @include activation_functions.wgsl

@compute @workgroup_size(THREADS_X, THREADS_Y, 1)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>) {
  let m = params.m;
  let n = params.n;
  let k = params.k;
  let row0 = group.y * TILE_M;
  let col0 = group.x * TILE_N;
  let tx = local.x;
  let ty = local.y;

  var acc = gemm_tile_product(row0, col0, m, n, k, tx, ty);

  for (var i = 0u; i < MICRO_M; i++) {
    let row = row0 + ty + i * THREADS_Y;
    if (row >= m) {
      continue;
    }
    for (var j = 0u; j < MICRO_N; j++) {
      let col = col0 + tx + j * THREADS_X;
      if (col >= n) {
        continue;
      }
      var value = acc[i][j];
      if (HAS_BIAS) {
        value += bias[col];
      }
      if (EPILOGUE == EPILOGUE_ACTIVATION) {
        value = apply_activation(value, ACTIVATION);
      } else if (EPILOGUE == EPILOGUE_RESIDUAL) {
        value += residual[row * n + col];
      }
      y[row * n + col] = value;
    }
  }
}
