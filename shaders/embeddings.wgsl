// embeddings: BertEmbeddings.forward fused: word + position + token-type rows gathered and summed, then
// LayerNorm (gamma, beta, eps), one output row per token of the ragged batch.
//
// Bindings (group 0):
//   0 tokens         array<vec4<u32>>  [T]: (word id, position, token type, unused), read
//   1 word_rows      array<weight_t>   [vocab, HIDDEN] word table, or [T, HIDDEN] rows already gathered on the
//                                      CPU when WORD_ROWS_PREGATHERED (tables larger than one storage binding), read
//   2 position_table array<weight_t>   [max_positions, HIDDEN], read
//   3 type_table     array<weight_t>   [type_vocab, HIDDEN], read
//   4 ln_params      array<f32>        [2 * HIDDEN]: gamma then beta, read
//   5 y              array<f32>        [T, HIDDEN], read_write
//   6 params         uniform {num_tokens, eps}
// Workgroup size: WORKGROUP_SIZE (128), one workgroup per token.
// Dispatch: (min(T, 65535), ceil(T / 65535), 1); token = workgroup_id.x + workgroup_id.y * num_workgroups.x.
// Tiling: the summed row lives in shared memory (HIDDEN floats); invocations stride over columns, so each
//   table row is read contiguously (coalesced). Mean and variance use two reductions (two-pass, as the
//   reference does; fragments/layer_norm_row.wgsl). Ids are validated on the CPU before upload; the kernel trusts them.
// Override constants: HIDDEN (required), WORKGROUP_SIZE (128, a power of two), WORD_ROWS_PREGATHERED (false).

alias weight_t = f32;

struct EmbeddingParams {
  num_tokens: u32,
  eps: f32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<storage, read> tokens: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> word_rows: array<weight_t>;
@group(0) @binding(2) var<storage, read> position_table: array<weight_t>;
@group(0) @binding(3) var<storage, read> type_table: array<weight_t>;
@group(0) @binding(4) var<storage, read> ln_params: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<uniform> params: EmbeddingParams;

override HIDDEN: u32;
override WORKGROUP_SIZE: u32 = 128u;
override WORD_ROWS_PREGATHERED: bool = false;

// @include workgroup_sum.wgsl
// @include layer_norm_row.wgsl

@compute @workgroup_size(WORKGROUP_SIZE, 1, 1)
fn main(
  @builtin(workgroup_id) group: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lane: u32,
) {
  let token = group.x + group.y * groups.x;
  if (token >= params.num_tokens) {
    return;
  }
  let ids = tokens[token];
  let word_base = select(ids.x, token, WORD_ROWS_PREGATHERED) * HIDDEN;
  let position_base = ids.y * HIDDEN;
  let type_base = ids.z * HIDDEN;
  var sum = 0.0;
  for (var c = lane; c < HIDDEN; c += WORKGROUP_SIZE) {
    // Summed in the reference's order: word + position, then + token type.
    let value = f32(word_rows[word_base + c]) + f32(position_table[position_base + c]) + f32(type_table[type_base + c]);
    row_values[c] = value;
    sum += value;
  }
  layer_norm_staged_row(sum, lane, token * HIDDEN, params.eps);
}
