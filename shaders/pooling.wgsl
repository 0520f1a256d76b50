// pooling: one embedding per sequence of a ragged batch, fused with the per-request post-processing:
// pool (CLS = first token, MEAN = mean over all its tokens, LAST = last token; sentence-transformers
// Pooling), keep the first `dimensions` values (0 = all; Matryoshka truncation), then L2-normalize when asked,
// with torch.nn.functional.normalize's floor of 1e-12 on the norm. Truncation comes before normalization.
//
// Bindings (group 0):
//   0 hidden      array<f32>        [T, HIDDEN] last hidden state, read
//   1 cu_seq_lens array<u32>        [n + 1], read
//   2 seq_options array<vec2<u32>>  [n]: (dimensions, normalize 0/1), read
//   3 out         array<f32>        [n, HIDDEN]: row i holds its kept values then zeros, read_write
//   4 params      uniform {num_sequences}
// Workgroup size: WORKGROUP_SIZE (128), one workgroup per sequence.
// Dispatch: (min(n, 65535), ceil(n / 65535), 1); sequence = workgroup_id.x + workgroup_id.y * num_workgroups.x.
// Tiling: invocations stride over the hidden columns, so every token row is read contiguously (coalesced); a
//   MEAN sums down the sequence in f32 in token order. The pooled row is staged in shared memory for the norm.
// Override constants: HIDDEN (required), WORKGROUP_SIZE (128, a power of two), POOL_MODE (0 cls, 1 mean, 2 last).

struct PoolingParams {
  num_sequences: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<storage, read> hidden: array<f32>;
@group(0) @binding(1) var<storage, read> cu_seq_lens: array<u32>;
@group(0) @binding(2) var<storage, read> seq_options: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: PoolingParams;

override HIDDEN: u32;
override WORKGROUP_SIZE: u32 = 128u;
override POOL_MODE: u32 = 0u;

const POOL_CLS: u32 = 0u;
const POOL_MEAN: u32 = 1u;
const NORMALIZE_EPS: f32 = 1.0e-12;

var<workgroup> pooled: array<f32, HIDDEN>;

// @include workgroup_sum.wgsl

@compute @workgroup_size(WORKGROUP_SIZE, 1, 1)
fn main(
  @builtin(workgroup_id) group: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lane: u32,
) {
  let sequence = group.x + group.y * groups.x;
  if (sequence >= params.num_sequences) {
    return;
  }
  let start = cu_seq_lens[sequence];
  let end = cu_seq_lens[sequence + 1u];
  let options = seq_options[sequence];
  let kept = select(options.x, HIDDEN, options.x == 0u || options.x > HIDDEN);

  var squares = 0.0;
  for (var c = lane; c < HIDDEN; c += WORKGROUP_SIZE) {
    var value: f32;
    if (POOL_MODE == POOL_CLS) {
      value = hidden[start * HIDDEN + c];
    } else if (POOL_MODE == POOL_MEAN) {
      var sum = 0.0;
      for (var t = start; t < end; t++) {
        sum += hidden[t * HIDDEN + c];
      }
      value = sum / f32(end - start);
    } else {
      value = hidden[(end - 1u) * HIDDEN + c];
    }
    pooled[c] = value;
    if (c < kept) {
      squares = fma(value, value, squares);
    }
  }
  let norm = sqrt(workgroup_sum(squares, lane));
  let scale = select(1.0, 1.0 / max(norm, NORMALIZE_EPS), options.y != 0u);
  let out_base = sequence * HIDDEN;
  for (var c = lane; c < HIDDEN; c += WORKGROUP_SIZE) {
    out[out_base + c] = select(0.0, pooled[c] * scale, c < kept);
  }
}
