// kv_write: the first half of paged attention. Copies the chunk's K and V rows (after k_norm and RoPE, as
// DynamicCache.update receives them upstream) into their KV-cache slots through each sequence's block table:
// position p of sequence s lives in block block_tables[s][p / BLOCK_SIZE], slot p % BLOCK_SIZE. It is its own
// dispatch, recorded just before paged_attention.wgsl in the same compute pass, because the attention of one token
// reads slots other workgroups write and WebGPU orders storage writes only between dispatches.
//
// Bindings (group 0):
//   0 k        array<f32> [T, kv_width], read      (kv_width = num_kv_heads * head_dim)
//   1 v        array<f32> [T, kv_width], read
//   2 batch_meta     array<u32>, read: [0, T) token -> sequence; at seq_offset + 4 s: (first token, num new tokens,
//              num cached tokens, offset of the block table in meta); then the block tables
//   3 k_cache  array<f32> [num_blocks * block_size, kv_width], read_write
//   4 v_cache  array<f32> [num_blocks * block_size, kv_width], read_write
//   5 params   uniform {num_tokens, kv_width, seq_offset, block_size}
// Workgroup size: WORKGROUP_SIZE (256), one invocation per (token, column).
// Dispatch: grid of ceil(T * kv_width / 256) workgroups, (min(count, 65535), ceil(count / 65535), 1).
// Tiling: none; consecutive invocations copy consecutive columns of one row (coalesced on both sides).
// Override constants: WORKGROUP_SIZE (256).

struct KvWriteParams {
  num_tokens: u32,
  kv_width: u32,
  seq_offset: u32,
  block_size: u32,
}

@group(0) @binding(0) var<storage, read> k: array<f32>;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read> batch_meta: array<u32>;
@group(0) @binding(3) var<storage, read_write> k_cache: array<f32>;
@group(0) @binding(4) var<storage, read_write> v_cache: array<f32>;
@group(0) @binding(5) var<uniform> params: KvWriteParams;

override WORKGROUP_SIZE: u32 = 256u;

@compute @workgroup_size(WORKGROUP_SIZE, 1, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let index = id.x + id.y * groups.x * WORKGROUP_SIZE;
  let width = params.kv_width;
  if (index >= params.num_tokens * width) {
    return;
  }
  let t = index / width;
  let c = index % width;
  let info = params.seq_offset + 4u * batch_meta[t];
  let position = batch_meta[info + 2u] + (t - batch_meta[info]);
  let block = batch_meta[batch_meta[info + 3u] + position / params.block_size];
  let slot_row = block * params.block_size + position % params.block_size;
  k_cache[slot_row * width + c] = k[index];
  v_cache[slot_row * width + c] = v[index];
}
