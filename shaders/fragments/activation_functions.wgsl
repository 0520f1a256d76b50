// Fragment, no entry point: the activation functions that gemm.wgsl (fused epilogue), activation.wgsl (standalone)
// and gated_activation.wgsl share. The loader pastes this file where a kernel says
// `// @include activation_functions.wgsl`.
// Expects nothing from the including kernel (no bindings, overrides or workgroup size); the kernel passes the
// code, usually its ACTIVATION override. Declares: normal_cdf, gelu_erf, gelu_tanh, silu, apply_activation.
//
// ACTIVATION codes, kept in step with ACTIVATION_CODE in src/backends/webgpu/kernels/activation_code.ts:
//   0 identity, 1 gelu (exact, erf), 2 gelu tanh approximation (gelu_new, gelu_pytorch_tanh), 3 relu, 4 silu
//   (gated_activation.wgsl's SwiGLU).

// Standard normal CDF Phi(x) = 0.5 * erfc(-x / sqrt 2), with erfc from Abramowitz & Stegun 7.1.26
// (|erf error| <= 1.5e-7, below float32 resolution of 1 + erf). The tail erfc(|y|) is computed directly, so for
// x < 0 Phi is never formed as 1 - (almost 1): no cancellation where GELU is tiny.
fn normal_cdf(x: f32) -> f32 {
  let y = abs(x) * 0.70710678118654752;
  let t = 1.0 / (1.0 + 0.3275911 * y);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let upper_tail = 0.5 * poly * exp(-y * y); // = 0.5 * erfc(y)
  return select(1.0 - upper_tail, upper_tail, x < 0.0);
}

fn gelu_erf(x: f32) -> f32 {
  return x * normal_cdf(x);
}

fn gelu_tanh(x: f32) -> f32 {
  // tanh saturates to +-1 in float32 beyond |z| ~ 9; clamping keeps drivers that build tanh from exp() away
  // from inf / inf.
  let z = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0, 15.0);
  return 0.5 * x * (1.0 + tanh(z));
}

// x / (1 + e^-x); exp(-x) overflows to +inf for x < -88, giving x / inf = -0, the limit.
fn silu(x: f32) -> f32 {
  return x / (1.0 + exp(-x));
}

fn apply_activation(x: f32, code: u32) -> f32 {
  switch code {
    case 1u: { return gelu_erf(x); }
    case 2u: { return gelu_tanh(x); }
    case 3u: { return max(x, 0.0); }
    case 4u: { return silu(x); }
    default: { return x; }
  }
}
