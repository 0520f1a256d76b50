// rope: rotate-half rotary position embedding, in place (Qwen3 apply_rotary_pos_emb with rotate_half). Per head,
// for j < HEAD_DIM / 2, with angle = position * inv_freq[j]:
//   out[j]            = x[j] cos(angle) - x[j + HEAD_DIM/2] sin(angle)
//   out[j + HEAD_DIM/2] = x[j + HEAD_DIM/2] cos(angle) + x[j] sin(angle)
//
// Bindings (group 0):
//   0 x         array<f32> [T, row_stride], read_write (rotated in place): token t's heads at
//               x[t * row_stride + h * HEAD_DIM ...] for h < num_heads (Qwen3: row_stride = num_heads * HEAD_DIM;
//               a fused q|k|v row: num_heads = q and k heads together, row_stride = the q|k|v width)
//   1 positions array<u32> [T]: each token's position in its input (cached tokens included), read
//   2 inv_freq  array<f32> [HEAD_DIM / 2]: 1 / theta^(2j / HEAD_DIM), read
//   3 params    uniform {num_tokens, num_heads, row_stride}
// Workgroup size: WORKGROUP_SIZE (64), one invocation per (token, head, pair j).
// Dispatch: grid of ceil(T * num_heads * HEAD_DIM / 2 / 64) workgroups, (min(count, 65535), ceil(count / 65535), 1).
// Tiling: none; each invocation reads and writes its own pair (j, j + HEAD_DIM/2).
// Override constants: HEAD_DIM (required, even), WORKGROUP_SIZE (64).
//
// Precision. theta enters through inv_freq, which the host computes in float64 from the config's rope_theta and
// rounds once to f32 (relative error 2^-24): evaluating theta^(-2j/d) in WGSL goes through exp2/log2, whose f32
// error (~1e-6 relative) times positions in the tens of thousands would cost ~0.03 rad. The angle
// f32(position) * inv_freq (positions < 2^24 are exact in f32) then carries at most ~2^-23 relative error: at
// position 32767 and inv_freq = 1 that is <= 4e-3 rad, the same rounding upstream's float32 angles have (transformers
// evaluates freqs in float32 too). The angle is reduced to [-pi, pi] with a two-constant Cody-Waite reduction
// (fma, 2*pi split into an f32 head and tail) before cos/sin, because WGSL/Vulkan only bound the error of cos/sin on
// [-pi, pi] (absolute 2^-11 by the spec; lavapipe and real drivers are near f32 rounding there).

struct RopeParams {
  num_tokens: u32,
  num_heads: u32,
  row_stride: u32,
  _pad0: u32,
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> positions: array<u32>;
@group(0) @binding(2) var<storage, read> inv_freq: array<f32>;
@group(0) @binding(3) var<uniform> params: RopeParams;

override HEAD_DIM: u32;
override WORKGROUP_SIZE: u32 = 64u;

const INV_TWO_PI: f32 = 0.15915494309189535;
// 2*pi = TWO_PI_HI + TWO_PI_LO; TWO_PI_HI is 2*pi rounded to f32, TWO_PI_LO the f32 of the remainder.
const TWO_PI_HI: f32 = 6.2831854820251465;
const TWO_PI_LO: f32 = -1.7484556e-7;

@compute @workgroup_size(WORKGROUP_SIZE, 1, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let half = HEAD_DIM / 2u;
  let index = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (index >= params.num_tokens * params.num_heads * half) {
    return;
  }
  let j = index % half;
  let head_of_token = index / half; // t * num_heads + h
  let t = head_of_token / params.num_heads;
  let h = head_of_token % params.num_heads;
  let angle = f32(positions[t]) * inv_freq[j];
  let turns = round(angle * INV_TWO_PI);
  let reduced = fma(-turns, TWO_PI_LO, fma(-turns, TWO_PI_HI, angle));
  let c = cos(reduced);
  let s = sin(reduced);
  let base = t * params.row_stride + h * HEAD_DIM;
  let first = x[base + j];
  let second = x[base + half + j];
  x[base + j] = first * c - second * s;
  x[base + half + j] = second * c + first * s;
}
