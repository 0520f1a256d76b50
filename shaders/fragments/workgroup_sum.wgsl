// Fragment, no entry point: a workgroup-wide float sum for the row kernels (layer_norm, embeddings, pooling,
// rms_norm). The loader pastes this file where a kernel says `// @include workgroup_sum.wgsl`.
//
// Expects from the including kernel: override WORKGROUP_SIZE (a power of two), workgroup size
// @workgroup_size(WORKGROUP_SIZE, 1, 1); no bindings.
// Declares: the workgroup scratch sum_scratch and workgroup_sum.
// Every invocation of the workgroup must call workgroup_sum in uniform control flow (it holds barriers).
// Tree reduction in shared memory: log2(WORKGROUP_SIZE) steps, each step's active lanes read consecutive
// words, so there are no bank conflicts.

var<workgroup> sum_scratch: array<f32, WORKGROUP_SIZE>;

fn workgroup_sum(value: f32, local_index: u32) -> f32 {
  sum_scratch[local_index] = value;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride = stride / 2u) {
    if (local_index < stride) {
      sum_scratch[local_index] = sum_scratch[local_index] + sum_scratch[local_index + stride];
    }
    workgroupBarrier();
  }
  let total = sum_scratch[0];
  // The next call overwrites the scratch: everyone must have read the total first.
  workgroupBarrier();
  return total;
}
