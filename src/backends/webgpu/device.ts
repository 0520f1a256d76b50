// Opening a WebGPU device through Dawn (the `webgpu` package): adapter choice, the limits and optional features
// the kernels can use, and turning device loss and uncaptured errors into thrown errors instead of hangs.
/// <reference types="@webgpu/types" />
import { create } from 'webgpu';
import { ModelLoadError } from '../../errors.js';
import { WebGpuDeviceLostError, WebGpuError } from './errors.js';

export interface WebGpuDeviceOptions {
  /** Passed to requestAdapter (matters on machines with an integrated and a discrete GPU). */
  readonly powerPreference?: GPUPowerPreference;
  /** Substring of the adapter name to pick (Dawn's `adapter=` toggle); a miss lists the adapters found. */
  readonly adapterName?: string;
  /** Dawn backend to use: 'vulkan', 'metal', 'd3d12', 'd3d11', 'opengl', 'opengles', 'null'. Default: Dawn's pick. */
  readonly dawnBackend?: string;
  /** Ask for `shader-f16` when the adapter has it (default true). Needed for f16 weight storage. */
  readonly shaderF16?: boolean;
  /** Ask for `subgroups` when the adapter has it (default true). */
  readonly subgroups?: boolean;
}

/** Limits the kernels benefit from: requested at the adapter's maximum instead of WebGPU's defaults. */
const LIMITS_TO_RAISE = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
] as const;

export type RaisedLimit = (typeof LIMITS_TO_RAISE)[number];

export interface AdapterDescription {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly isFallbackAdapter: boolean;
}

/** A readable adapter name: the driver's description when it has one (lavapipe: "llvmpipe: Mesa 25.0.7 ..."). */
export function adapterDisplayName(info: AdapterDescription): string {
  const parts = [info.description || info.device, info.vendor && `vendor ${info.vendor}`, info.architecture && `arch ${info.architecture}`];
  return parts.filter(Boolean).join(', ') || 'unnamed adapter';
}

function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: Boolean((info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter),
  };
}

async function requestAdapter(opts: WebGpuDeviceOptions): Promise<{ gpu: GPU; adapter: GPUAdapter }> {
  const flags: string[] = [];
  if (opts.adapterName !== undefined) flags.push(`adapter=${opts.adapterName}`);
  if (opts.dawnBackend !== undefined) flags.push(`backend=${opts.dawnBackend}`);
  let gpu: GPU;
  let adapter: GPUAdapter | null;
  try {
    gpu = create(flags);
    adapter = await gpu.requestAdapter(opts.powerPreference === undefined ? {} : { powerPreference: opts.powerPreference });
  } catch (error) {
    throw new ModelLoadError(`no WebGPU adapter: ${(error as Error).message.trim()}`);
  }
  if (adapter === null) {
    throw new ModelLoadError(
      'no WebGPU adapter: Dawn found no GPU driver (on Linux install a Vulkan driver, e.g. mesa-vulkan-drivers and libvulkan1 from bookworm-backports for the lavapipe CPU device)',
    );
  }
  return { gpu, adapter };
}

export type ProbeResult = { readonly available: true; readonly adapter: AdapterDescription } | { readonly available: false; readonly reason: string };

/** Whether an adapter can be had, without keeping a device; tests use this to skip with the reason. */
export async function probeWebGpu(opts: WebGpuDeviceOptions = {}): Promise<ProbeResult> {
  try {
    const { adapter } = await requestAdapter(opts);
    return { available: true, adapter: describeAdapter(adapter) };
  } catch (error) {
    return { available: false, reason: (error as Error).message.replace(/^no WebGPU adapter: /, '') };
  }
}

export interface WebGpuFeatures {
  readonly shaderF16: boolean;
  readonly subgroups: boolean;
}

/** Error scopes we watch around every batch of GPU work. */
const WATCHED_ERRORS: readonly GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

/**
 * An open device plus the bookkeeping that makes failures loud: device loss rejects `lost` (and every later
 * `checked`/`settle` call), uncaptured errors are collected and thrown at the next check.
 */
export class WebGpuContext {
  private lostError: WebGpuDeviceLostError | null = null;
  private destroyed = false;
  private readonly uncapturedErrors: string[] = [];
  /** Rejects when the device is lost for any reason other than our own destroy(). Never resolves. */
  readonly lost: Promise<never>;

  private constructor(
    // Dawn tears the instance down when the `GPU` object is collected: keep it as long as the device.
    // biome-ignore lint/correctness/noUnusedPrivateClassMembers: held only to keep Dawn's instance alive (see above)
    private gpu: GPU | null,
    readonly device: GPUDevice,
    readonly adapter: AdapterDescription,
    readonly features: WebGpuFeatures,
  ) {
    this.lost = new Promise<never>((_, reject) => {
      void device.lost.then((info) => {
        if (this.destroyed) return;
        this.lostError = new WebGpuDeviceLostError(info.reason, info.message);
        reject(this.lostError);
      });
    });
    // Nobody may be waiting when the device goes; the rejection is reported through assertUsable() then.
    this.lost.catch(() => undefined);
    device.addEventListener('uncapturederror', (event) => {
      const message = (event as GPUUncapturedErrorEvent).error.message;
      if (this.uncapturedErrors.length < 16) this.uncapturedErrors.push(message);
    });
  }

  static async open(opts: WebGpuDeviceOptions = {}): Promise<WebGpuContext> {
    const { gpu, adapter } = await requestAdapter(opts);
    const requiredFeatures: GPUFeatureName[] = [];
    const wantF16 = (opts.shaderF16 ?? true) && adapter.features.has('shader-f16');
    const wantSubgroups = (opts.subgroups ?? true) && adapter.features.has('subgroups');
    if (wantF16) requiredFeatures.push('shader-f16');
    if (wantSubgroups) requiredFeatures.push('subgroups' as GPUFeatureName);
    const requiredLimits: Record<string, number> = {};
    for (const name of LIMITS_TO_RAISE) {
      const value = (adapter.limits as unknown as Record<string, number | undefined>)[name];
      if (typeof value === 'number') requiredLimits[name] = value;
    }
    const description = describeAdapter(adapter);
    let device: GPUDevice;
    try {
      device = await adapter.requestDevice({ label: 'pooled webgpu device', requiredFeatures, requiredLimits });
    } catch (error) {
      throw new ModelLoadError(`WebGPU adapter ${adapterDisplayName(description)} refused a device: ${(error as Error).message}`);
    }
    return new WebGpuContext(gpu, device, description, { shaderF16: device.features.has('shader-f16'), subgroups: device.features.has('subgroups') });
  }

  get adapterName(): string {
    return adapterDisplayName(this.adapter);
  }

  limit(name: RaisedLimit): number {
    return (this.device.limits as unknown as Record<string, number>)[name];
  }

  /** Throws if the device is gone or an error escaped the error scopes since the last check. */
  assertUsable(): void {
    if (this.destroyed) throw new WebGpuError('WebGPU device used after dispose()');
    if (this.lostError !== null) throw this.lostError;
    if (this.uncapturedErrors.length > 0) {
      const messages = this.uncapturedErrors.splice(0);
      throw new WebGpuError(`WebGPU error: ${messages.join('; ')}`);
    }
  }

  /** Waits for a GPU promise, failing at once (instead of hanging) if the device is lost meanwhile. */
  async settle<T>(promise: Promise<T>, what: string): Promise<T> {
    this.assertUsable();
    try {
      return await Promise.race([promise, this.lost]);
    } catch (error) {
      if (error instanceof WebGpuError) throw error;
      throw new WebGpuError(`WebGPU ${what} failed: ${(error as Error).message}`);
    }
  }

  /**
   * Runs `work` (which records or submits GPU commands) inside validation, out-of-memory and internal error
   * scopes and throws the first error any of them caught, naming `what`.
   */
  async checked<T>(what: string, work: () => T | Promise<T>): Promise<T> {
    this.assertUsable();
    for (const filter of WATCHED_ERRORS) this.device.pushErrorScope(filter);
    let result: T;
    let thrown: unknown = null;
    try {
      result = await work();
    } catch (error) {
      thrown = error;
    }
    // Pop every scope even after a throw, so the scope stack stays balanced.
    const errors: (GPUError | null)[] = [];
    for (let i = 0; i < WATCHED_ERRORS.length; i++) errors.push(await this.settle(this.device.popErrorScope(), 'popErrorScope'));
    if (thrown !== null) throw thrown;
    const first = errors.find((error) => error !== null);
    if (first) throw new WebGpuError(`WebGPU error in ${what}: ${first.message.trim()}`);
    return result!;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.device.destroy();
    this.gpu = null;
  }
}
