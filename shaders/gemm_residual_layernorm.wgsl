// gemm_residual_layernorm: y = LayerNorm(x * w^T + bias + residual) * gamma + beta, each row normalized over all
// N columns: BertSelfOutput / BertOutput (dense, add the sub-layer input, post-LayerNorm) in one dispatch.
//
// Bindings (group 0):
//   0 x         array<f32>       [M, K] row-major, read
//   1 w         array<weight_t>  [N, K] row-major (Linear weight), read
//   2 bias      array<f32>       [N], read
//   3 residual  array<f32>       [M, N], read
//   4 ln_params array<f32>       [2N]: gamma in [0, N), beta in [N, 2N), read
//   5 y         array<f32>       [M, N], read_write (must not alias x or residual)
//   6 params    uniform {m, n, k, eps}
// Workgroup size: (TILE_N / MICRO_N, TILE_M / MICRO_M), 16 x 8 = 128 invocations with the defaults.
// Dispatch: (1, ceil(M / TILE_M), 1): a workgroup owns TILE_M whole rows, because LayerNorm needs every column
//   of a row before it can write any of them.
// Tiling: the workgroup sweeps the row panel in TILE_N-wide column chunks; each chunk is the same shared-memory
//   tiled product as gemm.wgsl (fragments/gemm_tile.wgsl: k-major padded tiles, strided micro-tiles, coalesced
//   loads, no bank conflicts).
//   The pre-norm values go straight to y. LayerNorm then runs in two more sweeps that read back only values the
//   same invocation wrote (so no cross-invocation memory ordering is needed): one for the mean, one for the
//   variance about that mean (two-pass, as the reference does, not E[x^2] - E[x]^2), and the last rewrites y.
//   Row statistics are combined across the THREADS_X invocations sharing a row through shared memory.
// Override constants: TILE_M (16), TILE_N (64), TILE_K (16), MICRO_M (2), MICRO_N (4); MICRO_* <= 8.
// Trade-off: only ceil(M / TILE_M) workgroups run, so small batches underfill a large GPU; the unfused path
//   (gemm.wgsl with EPILOGUE = 2, then layer_norm.wgsl) is the same math with more parallelism.

alias weight_t = f32;

struct GemmLayerNormParams {
  m: u32,
  n: u32,
  k: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<weight_t>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> residual: array<f32>;
@group(0) @binding(4) var<storage, read> ln_params: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<uniform> params: GemmLayerNormParams;

override TILE_M: u32 = 16u;
override TILE_N: u32 = 64u;
override TILE_K: u32 = 16u;
override MICRO_M: u32 = 2u;
override MICRO_N: u32 = 4u;

// @include gemm_tile.wgsl

// Per-row partial sums from each column lane, laid out [row][tx], then the per-row result in row_stat.
var<workgroup> row_partials: array<f32, TILE_M * THREADS_X>;
var<workgroup> row_stat: array<f32, TILE_M>;

// Sums each row's partials over the THREADS_X lanes; every invocation must call it (barriers).
fn reduce_rows(partial: array<f32, MAX_MICRO>, tx: u32, ty: u32, thread: u32) {
  for (var i = 0u; i < MICRO_M; i++) {
    row_partials[(ty + i * THREADS_Y) * THREADS_X + tx] = partial[i];
  }
  workgroupBarrier();
  if (thread < TILE_M) {
    var total = 0.0;
    for (var lane = 0u; lane < THREADS_X; lane++) {
      total += row_partials[thread * THREADS_X + lane];
    }
    row_stat[thread] = total;
  }
  workgroupBarrier();
}

@compute @workgroup_size(THREADS_X, THREADS_Y, 1)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>) {
  let m = params.m;
  let n = params.n;
  let k = params.k;
  let row0 = group.y * TILE_M;
  let tx = local.x;
  let ty = local.y;
  let thread = ty * THREADS_X + tx;

  // Sweep 1: the product, bias and residual, chunk by chunk; row sums for the mean.
  var row_sum: array<f32, MAX_MICRO>;
  for (var col0 = 0u; col0 < n; col0 += TILE_N) {
    var acc = gemm_tile_product(row0, col0, m, n, k, tx, ty);
    for (var i = 0u; i < MICRO_M; i++) {
      let row = row0 + ty + i * THREADS_Y;
      for (var j = 0u; j < MICRO_N; j++) {
        let col = col0 + tx + j * THREADS_X;
        if (row < m && col < n) {
          let value = acc[i][j] + bias[col] + residual[row * n + col];
          y[row * n + col] = value;
          row_sum[i] += value;
        }
      }
    }
  }
  reduce_rows(row_sum, tx, ty, thread);
  var mean: array<f32, MAX_MICRO>;
  for (var i = 0u; i < MICRO_M; i++) {
    mean[i] = row_stat[ty + i * THREADS_Y] / f32(n);
  }
  // row_stat is rewritten by the next reduction: wait until every invocation has read its means.
  workgroupBarrier();

  // Sweep 2: squared deviations from the mean, over the values this invocation wrote in sweep 1.
  var row_squares: array<f32, MAX_MICRO>;
  for (var col0 = 0u; col0 < n; col0 += TILE_N) {
    for (var i = 0u; i < MICRO_M; i++) {
      let row = row0 + ty + i * THREADS_Y;
      for (var j = 0u; j < MICRO_N; j++) {
        let col = col0 + tx + j * THREADS_X;
        if (row < m && col < n) {
          let deviation = y[row * n + col] - mean[i];
          row_squares[i] = fma(deviation, deviation, row_squares[i]);
        }
      }
    }
  }
  reduce_rows(row_squares, tx, ty, thread);
  var inverse_std: array<f32, MAX_MICRO>;
  for (var i = 0u; i < MICRO_M; i++) {
    inverse_std[i] = inverseSqrt(row_stat[ty + i * THREADS_Y] / f32(n) + params.eps);
  }

  // Sweep 3: normalize in place.
  for (var col0 = 0u; col0 < n; col0 += TILE_N) {
    for (var i = 0u; i < MICRO_M; i++) {
      let row = row0 + ty + i * THREADS_Y;
      for (var j = 0u; j < MICRO_N; j++) {
        let col = col0 + tx + j * THREADS_X;
        if (row < m && col < n) {
          let normalized = (y[row * n + col] - mean[i]) * inverse_std[i];
          y[row * n + col] = fma(normalized, ln_params[col], ln_params[n + col]);
        }
      }
    }
  }
}
