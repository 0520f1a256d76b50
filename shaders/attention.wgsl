// attention: bidirectional multi-head scaled dot-product attention over a ragged batch, with no padding and
// no mask: each query attends to exactly the keys of its own sequence (BertSelfAttention, all-ones mask), or, with
// params.window > 0, to those within `window` positions on each side (sliding-window attention, ModernBERT's local
// layers: |query - key| <= window). A workgroup then stages only the key tiles that overlap the union of its queries'
// windows, so the work is O(n * window), not O(n^2).
// Flash-attention style: keys and values stream through shared memory in KV_TILE-row tiles and the softmax is
// computed online (running max and denominator, earlier partial sums rescaled when the max grows), so memory
// per workgroup is independent of sequence length and the score matrix never exists.
//
// Bindings (group 0):
//   0 qkv         array<f32>        rows of `row_stride` floats; q, k, v of head h start at columns
//                                   q_offset + h * HEAD_DIM, k_offset + h * HEAD_DIM, v_offset + h * HEAD_DIM, read
//   1 cu_seq_lens array<u32>        [n + 1] sequence offsets (token rows), read
//   2 tiles       array<vec2<u32>>  one per workgroup: (sequence index, first query row), read; built on the CPU
//                                   so every sequence gets ceil(len / QUERY_TILE) tiles and no workgroup spans two
//   3 out         array<f32>        rows of `out_stride` floats; head h writes columns h * HEAD_DIM.., read_write
//   4 params      uniform {row_stride, q_offset, k_offset, v_offset, out_stride, scale, window (0 = none)}
// Workgroup size: QUERY_TILE (64): one invocation per query row of the tile.
// Dispatch: (number of tiles, number of heads, 1).
// Tiling: the K and V tiles are loaded cooperatively (consecutive invocations read consecutive head-dim
//   columns: coalesced) into shared memory laid out [key][dim]; in the inner loops every invocation reads the
//   same shared word at the same time (a broadcast, no bank conflicts). Each invocation keeps its query, its
//   running output (HEAD_DIM floats) and the tile's scores in registers.
// Override constants: HEAD_DIM (required, <= 128), QUERY_TILE (64), KV_TILE (32, <= 64).
// Precision: everything f32; scores are pre-scaled by 1 / sqrt(HEAD_DIM) through the query.

struct AttentionParams {
  row_stride: u32,
  q_offset: u32,
  k_offset: u32,
  v_offset: u32,
  out_stride: u32,
  scale: f32,
  window: u32,
  _pad0: u32,
}

@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read> cu_seq_lens: array<u32>;
@group(0) @binding(2) var<storage, read> tiles: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: AttentionParams;

override HEAD_DIM: u32;
override QUERY_TILE: u32 = 64u;
override KV_TILE: u32 = 32u;

const MAX_HEAD_DIM: u32 = 128u;
const MAX_KV_TILE: u32 = 64u;
// A finite stand-in for -infinity (WGSL lets implementations assume no infinities); exp(-1e30 - s) is 0.
const NO_SCORE_YET: f32 = -1.0e30;

var<workgroup> k_tile: array<f32, KV_TILE * HEAD_DIM>;
var<workgroup> v_tile: array<f32, KV_TILE * HEAD_DIM>;

@compute @workgroup_size(QUERY_TILE, 1, 1)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let tile = tiles[group.x];
  let head = group.y;
  let seq_start = cu_seq_lens[tile.x];
  let seq_end = cu_seq_lens[tile.x + 1u];
  let query_row = tile.y + lane;
  let has_query = query_row < seq_end;
  let head_column = head * HEAD_DIM;

  var q: array<f32, MAX_HEAD_DIM>;
  var acc: array<f32, MAX_HEAD_DIM>;
  var scores: array<f32, MAX_KV_TILE>;
  var running_max = NO_SCORE_YET;
  var denominator = 0.0;
  if (has_query) {
    let q_base = query_row * params.row_stride + params.q_offset + head_column;
    for (var d = 0u; d < HEAD_DIM; d++) {
      q[d] = qkv[q_base + d] * params.scale;
    }
  }

  // Keys any query of this tile sees: the whole sequence, or the union of the windows (last query clipped to the
  // sequence; unsigned arithmetic, so the lower bound is formed without going below seq_start).
  var kv_begin = seq_start;
  var kv_end = seq_end;
  let windowed = params.window > 0u;
  if (windowed) {
    let last_query = min(tile.y + QUERY_TILE, seq_end) - 1u;
    kv_begin = select(seq_start, tile.y - params.window, tile.y >= seq_start + params.window);
    kv_end = min(seq_end, last_query + params.window + 1u);
  }
  // The window of this invocation's query (all of [kv_begin, kv_end) when not windowed).
  let own_begin = select(kv_begin, select(seq_start, query_row - params.window, query_row >= seq_start + params.window), windowed);
  let own_end = select(kv_end, min(seq_end, query_row + params.window + 1u), windowed);

  for (var kv_start = kv_begin; kv_start < kv_end; kv_start += KV_TILE) {
    let tile_len = min(KV_TILE, kv_end - kv_start);
    // The previous tile must be fully consumed before it is overwritten.
    workgroupBarrier();
    for (var e = lane; e < tile_len * HEAD_DIM; e += QUERY_TILE) {
      let key = e / HEAD_DIM;
      let d = e % HEAD_DIM;
      let row_base = (kv_start + key) * params.row_stride + head_column + d;
      k_tile[e] = qkv[row_base + params.k_offset];
      v_tile[e] = qkv[row_base + params.v_offset];
    }
    workgroupBarrier();
    if (has_query) {
      var tile_max = NO_SCORE_YET;
      for (var j = 0u; j < tile_len; j++) {
        var dot = 0.0;
        for (var d = 0u; d < HEAD_DIM; d++) {
          dot = fma(q[d], k_tile[j * HEAD_DIM + d], dot);
        }
        let key = kv_start + j;
        // Keys outside this query's window score NO_SCORE_YET and get probability exactly 0 below.
        scores[j] = select(NO_SCORE_YET, dot, key >= own_begin && key < own_end);
        tile_max = max(tile_max, scores[j]);
      }
      let new_max = max(running_max, tile_max);
      // Rescale what was accumulated under the old max (a factor of 0 on the first tile).
      let correction = exp(running_max - new_max);
      denominator *= correction;
      for (var d = 0u; d < HEAD_DIM; d++) {
        acc[d] *= correction;
      }
      for (var j = 0u; j < tile_len; j++) {
        // select, not exp alone: while no key of the window has been seen, new_max is NO_SCORE_YET too.
        let p = select(0.0, exp(scores[j] - new_max), scores[j] > NO_SCORE_YET);
        denominator += p;
        for (var d = 0u; d < HEAD_DIM; d++) {
          acc[d] = fma(p, v_tile[j * HEAD_DIM + d], acc[d]);
        }
      }
      running_max = new_max;
    }
  }

  if (has_query) {
    let out_base = query_row * params.out_stride + head_column;
    let inverse = 1.0 / denominator;
    for (var d = 0u; d < HEAD_DIM; d++) {
      out[out_base + d] = acc[d] * inverse;
    }
  }
}
