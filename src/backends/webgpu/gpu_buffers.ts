// Buffer helpers: every buffer gets a label naming the kernel that reads or writes it, sizes are rounded up to
// the 4-byte multiple WebGPU requires, and reads back go through a MAP_READ staging buffer.
/// <reference types="@webgpu/types" />
import type { WebGpuContext } from './device.js';
import { BufferUsage, MapMode } from './gpu_constants.js';
import type { WeightType } from './shader_source.js';

export const STORAGE_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC;
export const UNIFORM_USAGE = BufferUsage.UNIFORM | BufferUsage.COPY_DST;

function roundUp4(byteLength: number): number {
  return Math.max(4, Math.ceil(byteLength / 4) * 4);
}

export function createBuffer(ctx: WebGpuContext, label: string, byteLength: number, usage: number = STORAGE_USAGE): GPUBuffer {
  return ctx.device.createBuffer({ label, size: roundUp4(byteLength), usage });
}

/** Copies `data` into `buffer` at `byteOffset`, padding the tail to a 4-byte multiple as writeBuffer requires. */
export function writeBytes(ctx: WebGpuContext, buffer: GPUBuffer, byteOffset: number, data: ArrayBufferView): void {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.byteLength === 0) return;
  if (bytes.byteLength % 4 === 0) {
    ctx.device.queue.writeBuffer(buffer, byteOffset, bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return;
  }
  const padded = new Uint8Array(roundUp4(bytes.byteLength));
  padded.set(bytes);
  ctx.device.queue.writeBuffer(buffer, byteOffset, padded.buffer, 0, padded.byteLength);
}

export function createBufferWithData(ctx: WebGpuContext, label: string, data: ArrayBufferView, usage: number = STORAGE_USAGE): GPUBuffer {
  const buffer = createBuffer(ctx, label, data.byteLength, usage);
  writeBytes(ctx, buffer, 0, data);
  return buffer;
}

/**
 * float32 -> IEEE binary16 bits, round to nearest even; overflow to infinity, underflow through subnormals to
 * zero. Works on the raw bits without allocating per value (weights are tens of millions of values).
 */
export function float32ToHalfBits(values: Float32Array): Uint16Array {
  const source = values.byteOffset % 4 === 0 ? values : Float32Array.from(values);
  const bits = new Uint32Array(source.buffer, source.byteOffset, source.length);
  const out = new Uint16Array(source.length);
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i];
    const sign = (x >>> 16) & 0x8000;
    const exponent = (x >>> 23) & 0xff;
    const mantissa = x & 0x7fffff;
    if (exponent === 0xff) {
      out[i] = sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
      continue;
    }
    const halfExponent = exponent - 112; // rebias 127 -> 15
    if (halfExponent >= 0x1f) {
      out[i] = sign | 0x7c00;
    } else if (halfExponent <= 0) {
      if (halfExponent < -10) {
        out[i] = sign;
        continue;
      }
      const full = mantissa | 0x800000;
      const shift = 14 - halfExponent;
      const half = full >>> shift;
      const remainder = full & ((1 << shift) - 1);
      const halfway = 1 << (shift - 1);
      out[i] = sign | (half + (remainder > halfway || (remainder === halfway && (half & 1) === 1) ? 1 : 0));
    } else {
      const rounded = (halfExponent << 10) | (mantissa >>> 13);
      const remainder = mantissa & 0x1fff;
      // A carry out of the mantissa correctly bumps the exponent (and reaches infinity at the top).
      out[i] = sign | (rounded + (remainder > 0x1000 || (remainder === 0x1000 && (rounded & 1) === 1) ? 1 : 0));
    }
  }
  return out;
}

/** Values as the bytes of the chosen weight storage type (f16 rounds to nearest even). */
export function weightBytes(values: ArrayLike<number>, weightType: WeightType): Uint8Array {
  const f32 = values instanceof Float32Array ? values : Float32Array.from(values);
  if (weightType === 'f32') return new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength);
  const half = float32ToHalfBits(f32);
  return new Uint8Array(half.buffer, half.byteOffset, half.byteLength);
}

export function float32Data(values: ArrayLike<number>): Float32Array {
  return values instanceof Float32Array ? values : Float32Array.from(values);
}

/** A small uniform block: u32 and f32 fields in declaration order (16-byte multiple). */
export function uniformBlock(fields: readonly (readonly ['u32' | 'f32', number])[]): ArrayBuffer {
  const block = new ArrayBuffer(Math.ceil((fields.length * 4) / 16) * 16 || 16);
  const view = new DataView(block);
  fields.forEach(([type, value], i) => {
    if (type === 'u32') view.setUint32(i * 4, value, true);
    else view.setFloat32(i * 4, value, true);
  });
  return block;
}

/** Reads `byteLength` bytes of `source` (which needs COPY_SRC) back to the CPU. */
export async function readBack(ctx: WebGpuContext, source: GPUBuffer, byteLength: number, label: string): Promise<ArrayBuffer> {
  const size = roundUp4(byteLength);
  const staging = ctx.device.createBuffer({ label: `${label} readback`, size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  try {
    const encoder = ctx.device.createCommandEncoder({ label: `${label} readback` });
    encoder.copyBufferToBuffer(source, 0, staging, 0, size);
    ctx.device.queue.submit([encoder.finish()]);
    await ctx.settle(staging.mapAsync(MapMode.READ), `${label} readback`);
    return staging.getMappedRange().slice(0, byteLength);
  } finally {
    staging.destroy();
  }
}

/** Workgroup grid covering `count` workgroups when one dimension holds at most `maxPerDimension`. */
export function grid2d(count: number, maxPerDimension: number): [number, number, number] {
  if (count <= maxPerDimension) return [Math.max(count, 1), 1, 1];
  return [maxPerDimension, Math.ceil(count / maxPerDimension), 1];
}
