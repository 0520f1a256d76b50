// The error function in float64. JavaScript has no Math.erf, and the exact GELU that BERT checkpoints use
// (transformers activations.py GELUActivation -> torch.nn.functional.gelu, approximate='none') needs it.
//
// Algorithm: W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969)
// 631-638, as implemented in his CALERF routine (netlib specfun/erf, latest modification March 19, 1990).
// The three rational approximations are accurate to at least 18 significant digits in exact arithmetic; in
// float64 the result is within a few ulps (relative error ~1e-16) over the whole real line.
// The coefficients below are Cody's published values (arrays A, B, C, D, P, Q of CALERF).

/** erf on [0, 0.46875]: erf(x) = x * P(x^2) / Q(x^2). */
const A = [3.1611237438705656, 113.864154151050156, 377.485237685302021, 3209.37758913846947, 0.185777706184603153];
const B = [23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062];

/** erfc on [0.46875, 4]: erfc(x) = exp(-x^2) * P(x) / Q(x). */
const C = [
  0.564188496988670089, 8.88314979438837594, 66.1191906371416295, 298.635138197400131, 881.95222124176909, 1712.04761263407058, 2051.07837782607147,
  1230.33935479799725, 2.15311535474403846e-8,
];
const D = [
  15.7449261107098347, 117.693950891312499, 537.181101862009858, 1621.38957456669019, 3290.79923573345963, 4362.61909014324716, 3439.36767414372164,
  1230.33935480374942,
];

/** erfc on (4, inf): erfc(x) = exp(-x^2)/x * (1/sqrt(pi) - R(1/x^2)/x^2). */
const P = [0.305326634961232344, 0.360344899949804439, 0.125781726111229246, 0.0160837851487422766, 6.58749161529837803e-4, 0.0163153871373020978];
const Q = [2.56852019228982242, 1.87295284992346047, 0.527905102951428412, 0.0605183413124413191, 0.00233520497626869185];

const ONE_OVER_SQRT_PI = 0.56418958354775628695;
const SMALL_THRESHOLD = 0.46875;
/** Below this |x|, x*x is negligible next to the constant terms (CALERF's XSMALL for IEEE double). */
const X_SMALL = 1.11e-16;
/** erfc(x) underflows to 0 in float64 for x >= X_BIG (CALERF's XBIG for IEEE double). */
const X_BIG = 26.543;

/** erf for |x| <= 0.46875 (keeps the sign of x). */
function erfSmall(x: number): number {
  const y = Math.abs(x);
  const ySquared = y > X_SMALL ? y * y : 0;
  let numerator = A[4] * ySquared;
  let denominator = ySquared;
  for (let i = 0; i < 3; i++) {
    numerator = (numerator + A[i]) * ySquared;
    denominator = (denominator + B[i]) * ySquared;
  }
  return (x * (numerator + A[3])) / (denominator + B[3]);
}

/**
 * exp(-y^2) computed as exp(-ys^2) * exp(-(y - ys)(y + ys)) with ys = y rounded down to 1/16: CALERF's trick to
 * avoid the rounding error of forming y*y directly when y is large.
 */
function expMinusSquare(y: number): number {
  const ySplit = Math.trunc(y * 16) / 16;
  const remainder = (y - ySplit) * (y + ySplit);
  return Math.exp(-ySplit * ySplit) * Math.exp(-remainder);
}

/** erfc(y) for y > 0.46875. */
function erfcPositiveLarge(y: number): number {
  if (y <= 4) {
    let numerator = C[8] * y;
    let denominator = y;
    for (let i = 0; i < 7; i++) {
      numerator = (numerator + C[i]) * y;
      denominator = (denominator + D[i]) * y;
    }
    return expMinusSquare(y) * ((numerator + C[7]) / (denominator + D[7]));
  }
  if (y >= X_BIG) return 0;
  const inverseSquare = 1 / (y * y);
  let numerator = P[5] * inverseSquare;
  let denominator = inverseSquare;
  for (let i = 0; i < 4; i++) {
    numerator = (numerator + P[i]) * inverseSquare;
    denominator = (denominator + Q[i]) * inverseSquare;
  }
  const tail = (inverseSquare * (numerator + P[4])) / (denominator + Q[4]);
  return expMinusSquare(y) * ((ONE_OVER_SQRT_PI - tail) / y);
}

/** The error function erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt. NaN in, NaN out. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const y = Math.abs(x);
  if (y <= SMALL_THRESHOLD) return erfSmall(x);
  // 0.5 - erfc + 0.5 rather than 1 - erfc: CALERF's ordering, which keeps the last bit.
  const result = 0.5 - erfcPositiveLarge(y) + 0.5;
  return x < 0 ? -result : result;
}

/** The complementary error function erfc(x) = 1 - erf(x), accurate in relative terms for large x. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const y = Math.abs(x);
  if (y <= SMALL_THRESHOLD) return 1 - erfSmall(x);
  const tail = erfcPositiveLarge(y);
  return x < 0 ? 2 - tail : tail;
}
