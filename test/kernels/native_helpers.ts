// Shared by the native kernel tests: seeded inputs and error measures. Tolerances stay in each test, next to
// the assertion they bound.
import assert from 'node:assert/strict';

/** Deterministic uniform values in [-scale, scale) (mulberry32), so a failure reproduces exactly. */
export function randomArray(length: number, seed: number, scale = 1): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = (unit * 2 - 1) * scale;
  }
  return out;
}

/** float32 values rounded to bfloat16 (nearest even), returned as float32: what a bf16 weight holds. */
export function roundToBf16(values: Float32Array): Float32Array {
  const out = new Float32Array(values);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i];
    bits[i] = ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) << 16;
  }
  return out;
}

/** The raw bfloat16 bits of float32 values (round to nearest even). */
export function toBf16Bits(values: Float32Array): Uint16Array {
  const rounded = roundToBf16(values);
  const bits = new Uint32Array(rounded.buffer);
  return Uint16Array.from(bits, (b) => b >>> 16);
}

/** Asserts err <= tolerance with a message naming what was compared. */
export function assertWithin(err: number, tolerance: number, what: string): void {
  assert.ok(err <= tolerance, `${what}: error ${err} exceeds tolerance ${tolerance}`);
}
