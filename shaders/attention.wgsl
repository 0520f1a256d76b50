// attention: bidirectional multi-head scaled dot-product attention over a ragged batch, with no padding and
// no mask: each query attends to exactly the keys of its own sequence (BertSelfAttention, all-ones mask).
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
//   4 params      uniform {row_stride, q_offset, k_offset, v_offset, out_stride, scale}
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
  _pad0: u32,
  _pad1: u32,
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

  for (var kv_start = seq_start; kv_start < seq_end; kv_start += KV_TILE) {
    let tile_len = min(KV_TILE, seq_end - kv_start);
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
        scores[j] = dot;
        tile_max = max(tile_max, dot);
      }
      let new_max = max(running_max, tile_max);
      // Rescale what was accumulated under the old max (a factor of 0 on the first tile).
      let correction = exp(running_max - new_max);
      denominator *= correction;
      for (var d = 0u; d < HEAD_DIM; d++) {
        acc[d] *= correction;
      }
      for (var j = 0u; j < tile_len; j++) {
        let p = exp(scores[j] - new_max);
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
