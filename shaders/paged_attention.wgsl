// paged_attention: causal grouped-query attention of a ragged batch of chunks, keys and values read through each
// sequence's block table (vLLM's paged attention, prefill form). Query token t of sequence s sits at position
// p = num_cached[s] + (t - first[s]) and attends to positions 0..p of its own input: the cached ones (a prefix hit or
// earlier chunks) and the chunk's own, which kv_write.wgsl stored in their slots in the dispatch just before. Query
// head h reads kv head h / (num_heads / num_kv_heads) (repeat_kv). softmax(q k^T * scale) v with an online softmax
// in f32 (running max and denominator, the partial output rescaled), so no score row is ever stored.
// With PAGED = 0 (one-shot batches of whole sequences, no KV cache) keys and values are bound to the chunk's own
// k / v rows and position p is row first[s] + p.
//
// Bindings (group 0):
//   0 q       array<f32> [T, num_heads * HEAD_DIM] (after q_norm and RoPE), read
//   1 keys    array<f32>: PAGED: k cache [num_blocks * block_size, kv_width]; else k [T, kv_width], read
//   2 values  array<f32>: same layout as keys, read
//   3 batch_meta    array<u32>: [0, T) token -> sequence; at seq_offset + 4 s: (first token, num new tokens, num cached
//             tokens, offset of the block table in meta); then the block tables (as in kv_write.wgsl), read
//   4 out     array<f32> [T, num_heads * HEAD_DIM], read_write
//   5 params  uniform {num_tokens, num_heads, num_kv_heads, seq_offset, block_size, paged, scale}
// Workgroup size: WORKGROUP_SIZE (64), one invocation per (query token, head).
// Dispatch: grid of ceil(T * num_heads / 64) workgroups, (min(count, 65535), ceil(count / 65535), 1).
// Tiling: none: each invocation keeps its scaled query and its running output (HEAD_DIM <= MAX_HEAD_DIM = 256
//   floats each) in private memory and walks its keys one position at a time. Simple and exact in structure; a
//   tiled version staging a block of K/V in shared memory per (sequence, kv head) is the obvious next step on
//   real GPUs.
// Override constants: HEAD_DIM (required, <= 256), WORKGROUP_SIZE (64).

struct PagedAttentionParams {
  num_tokens: u32,
  num_heads: u32,
  num_kv_heads: u32,
  seq_offset: u32,
  block_size: u32,
  paged: u32,
  scale: f32,
  _pad0: u32,
}

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> keys: array<f32>;
@group(0) @binding(2) var<storage, read> values: array<f32>;
@group(0) @binding(3) var<storage, read> batch_meta: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> params: PagedAttentionParams;

override HEAD_DIM: u32;
override WORKGROUP_SIZE: u32 = 64u;

const MAX_HEAD_DIM: u32 = 256u;
// exp(NEG_BIG - s) is exactly 0 for any real score s: the first key's weight then replaces the empty state.
const NEG_BIG: f32 = -3.0e38;

fn key_row(first: u32, table: u32, position: u32) -> u32 {
  if (params.paged != 0u) {
    let block = batch_meta[table + position / params.block_size];
    return block * params.block_size + position % params.block_size;
  }
  return first + position;
}

@compute @workgroup_size(WORKGROUP_SIZE, 1, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let index = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (index >= params.num_tokens * params.num_heads) {
    return;
  }
  let t = index / params.num_heads;
  let h = index % params.num_heads;
  let info = params.seq_offset + 4u * batch_meta[t];
  let first = batch_meta[info];
  let table = batch_meta[info + 3u];
  let last_position = batch_meta[info + 2u] + (t - first);
  let kv_head = h / (params.num_heads / params.num_kv_heads);
  let kv_width = params.num_kv_heads * HEAD_DIM;
  let q_base = index * HEAD_DIM;

  var query: array<f32, MAX_HEAD_DIM>;
  var acc: array<f32, MAX_HEAD_DIM>;
  for (var d = 0u; d < HEAD_DIM; d++) {
    query[d] = q[q_base + d] * params.scale;
    acc[d] = 0.0;
  }
  var running_max = NEG_BIG;
  var denominator = 0.0;
  for (var p = 0u; p <= last_position; p++) {
    let kv_base = key_row(first, table, p) * kv_width + kv_head * HEAD_DIM;
    var score = 0.0;
    for (var d = 0u; d < HEAD_DIM; d++) {
      score = fma(query[d], keys[kv_base + d], score);
    }
    let new_max = max(running_max, score);
    let correction = exp(running_max - new_max);
    let weight = exp(score - new_max);
    denominator = denominator * correction + weight;
    for (var d = 0u; d < HEAD_DIM; d++) {
      acc[d] = fma(weight, values[kv_base + d], acc[d] * correction);
    }
    running_max = new_max;
  }
  let inverse = 1.0 / denominator;
  for (var d = 0u; d < HEAD_DIM; d++) {
    out[q_base + d] = acc[d] * inverse;
  }
}
