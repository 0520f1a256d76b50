// Buffer helpers: every buffer gets a label naming the kernel that reads or writes it, sizes are rounded up to
// the 4-byte multiple WebGPU requires, and reads back go through a MAP_READ staging buffer.
/// <reference types="@webgpu/types" />
import type { WebGpuContext } from './device.js';
import { BufferUsage, MapMode } from './gpu_constants.js';
import type { WeightType } from './shader_source.js';
import { float32ToBytes } from '../../model/tensor_data.js';

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

/** Values as the bytes of the chosen weight storage type (f16 rounds to nearest even). */
export function weightBytes(values: ArrayLike<number>, weightType: WeightType): Uint8Array {
  const f32 = values instanceof Float32Array ? values : Float32Array.from(values);
  return weightType === 'f32' ? new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength) : float32ToBytes(f32, 'F16');
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
