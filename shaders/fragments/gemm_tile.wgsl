// Fragment, no entry point: the shared-memory tiled product at the core of gemm.wgsl and
// gemm_residual_layernorm.wgsl. The loader pastes this file where a kernel says `// @include gemm_tile.wgsl`.
//
// Expects from the including kernel:
//   bindings  x: array<f32> [M, K] row-major and w: array<weight_t> [N, K] row-major (weight_t: f32 or f16);
//   overrides TILE_M, TILE_N, TILE_K, MICRO_M, MICRO_N (MICRO_* <= MAX_MICRO and dividing TILE_*);
//   workgroup size @workgroup_size(THREADS_X, THREADS_Y, 1), both declared here.
// Declares: MAX_MICRO, THREADS_X, THREADS_Y, NUM_THREADS, the workgroup tiles xs and ws, gemm_tile_product.
//
// Tiling: each TILE_K slice of x and w is staged in shared memory k-major (xs[k][m], ws[k][n]) with one word of
// padding per k-row, so the loads (threads consecutive along k, reading global memory coalesced) land on distinct
// banks. Invocation (tx, ty) accumulates the MICRO_M x MICRO_N outputs at rows ty + i * THREADS_Y and columns
// tx + j * THREADS_X of the tile: in the inner loop neighbouring invocations read neighbouring ws words (no bank
// conflicts) and xs reads are broadcasts.

const MAX_MICRO: u32 = 8u;

override THREADS_X: u32 = TILE_N / MICRO_N;
override THREADS_Y: u32 = TILE_M / MICRO_M;
override NUM_THREADS: u32 = THREADS_X * THREADS_Y;

var<workgroup> xs: array<f32, TILE_K * (TILE_M + 1u)>;
var<workgroup> ws: array<f32, TILE_K * (TILE_N + 1u)>;

// The TILE_M x TILE_N block of x * w^T whose top-left output is (row0, col0), this invocation's micro-tile of it:
// acc[i][j] is output (row0 + ty + i * THREADS_Y, col0 + tx + j * THREADS_X); rows >= m and columns >= n read
// zeros. Every invocation of the workgroup must call it in uniform control flow (it holds barriers).
fn gemm_tile_product(row0: u32, col0: u32, m: u32, n: u32, k: u32, tx: u32, ty: u32) -> array<array<f32, MAX_MICRO>, MAX_MICRO> {
  let thread = ty * THREADS_X + tx;
  // Zeroed explicitly: a declaration without initializer is not reliably re-zeroed by every compiler when the
  // caller runs this in a loop (lavapipe kept the previous chunk's sums).
  var acc = array<array<f32, MAX_MICRO>, MAX_MICRO>();
  for (var k0 = 0u; k0 < k; k0 += TILE_K) {
    // Stage x[row0.., k0..] and w[col0.., k0..]; consecutive invocations read consecutive k (coalesced).
    for (var e = thread; e < TILE_M * TILE_K; e += NUM_THREADS) {
      let r = e / TILE_K;
      let c = e % TILE_K;
      var value = 0.0;
      if (row0 + r < m && k0 + c < k) {
        value = x[(row0 + r) * k + k0 + c];
      }
      xs[c * (TILE_M + 1u) + r] = value;
    }
    for (var e = thread; e < TILE_N * TILE_K; e += NUM_THREADS) {
      let r = e / TILE_K;
      let c = e % TILE_K;
      var value = 0.0;
      if (col0 + r < n && k0 + c < k) {
        value = f32(w[(col0 + r) * k + k0 + c]);
      }
      ws[c * (TILE_N + 1u) + r] = value;
    }
    workgroupBarrier();

    for (var kk = 0u; kk < TILE_K; kk++) {
      var a: array<f32, MAX_MICRO>;
      var b: array<f32, MAX_MICRO>;
      for (var i = 0u; i < MICRO_M; i++) {
        a[i] = xs[kk * (TILE_M + 1u) + ty + i * THREADS_Y];
      }
      for (var j = 0u; j < MICRO_N; j++) {
        b[j] = ws[kk * (TILE_N + 1u) + tx + j * THREADS_X];
      }
      for (var i = 0u; i < MICRO_M; i++) {
        for (var j = 0u; j < MICRO_N; j++) {
          acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
      }
    }
    // The next slice overwrites xs and ws: everyone must be done reading them.
    workgroupBarrier();
  }
  return acc;
}
