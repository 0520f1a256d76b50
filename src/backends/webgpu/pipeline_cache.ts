// Compute pipelines compiled once and cached by their typed key (kernel, weight type, override constants), with
// explicit bind group layouts built from each kernel's binding list. Compilation errors surface as WebGpuError
// carrying the compiler's messages and the kernel's name.
/// <reference types="@webgpu/types" />
import type { WebGpuContext } from './device.js';
import { WebGpuError } from './errors.js';
import { ShaderStage } from './gpu_constants.js';
import { type KernelSpec, type PipelineKey, pipelineKeyString } from './kernel_spec.js';
import { shaderSource, type WeightType } from './shader_source.js';

export interface CachedPipeline {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  readonly key: PipelineKey;
  readonly label: string;
}

export class PipelineCache {
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, Promise<CachedPipeline>>();

  constructor(private readonly ctx: WebGpuContext) {}

  get size(): number {
    return this.pipelines.size;
  }

  bindGroupLayout(kernel: KernelSpec): GPUBindGroupLayout {
    let layout = this.layouts.get(kernel.name);
    if (layout === undefined) {
      layout = this.ctx.device.createBindGroupLayout({
        label: `${kernel.name} bind group layout`,
        entries: kernel.bindings.map((kind, binding) => ({
          binding,
          visibility: ShaderStage.COMPUTE,
          buffer: { type: kind === 'uniform' ? 'uniform' : kind === 'read' ? 'read-only-storage' : 'storage' },
        })),
      });
      this.layouts.set(kernel.name, layout);
    }
    return layout;
  }

  private async shaderModule(kernel: KernelSpec, weightType: WeightType): Promise<GPUShaderModule> {
    const moduleKey = `${kernel.file}/${weightType}`;
    let module = this.modules.get(moduleKey);
    if (module === undefined) {
      if (weightType === 'f16' && !this.ctx.features.shaderF16) {
        throw new WebGpuError(`${kernel.name}: f16 weights need the shader-f16 feature, which this device lacks`);
      }
      // Scoped, so a compile error is reported once, here, and not again as an uncaptured error later.
      this.ctx.device.pushErrorScope('validation');
      module = this.ctx.device.createShaderModule({ label: `${kernel.name} (${weightType} weights)`, code: shaderSource(kernel.file, weightType) });
      const scopeError = await this.ctx.settle(this.ctx.device.popErrorScope(), 'popErrorScope');
      const info = await module.getCompilationInfo();
      const errors = info.messages.filter((message) => message.type === 'error');
      if (errors.length > 0) {
        const lines = errors.map((message) => `${kernel.file}:${message.lineNum}:${message.linePos}: ${message.message}`);
        throw new WebGpuError(`WGSL compilation of ${kernel.name} failed:\n${lines.join('\n')}`);
      }
      if (scopeError !== null) throw new WebGpuError(`shader module ${kernel.name}: ${scopeError.message.trim()}`);
      this.modules.set(moduleKey, module);
    }
    return module;
  }

  /** The pipeline for `key`, compiled on first use. Concurrent callers share one compilation. */
  get(key: PipelineKey): Promise<CachedPipeline> {
    const weightType: WeightType = key.kernel.readsWeights ? key.weightType : 'f32';
    const cacheKey = pipelineKeyString(key);
    let pending = this.pipelines.get(cacheKey);
    if (pending === undefined) {
      pending = this.compile({ ...key, weightType }, cacheKey);
      // A failed compilation must not poison the cache for a later, corrected key.
      pending.catch(() => this.pipelines.delete(cacheKey));
      this.pipelines.set(cacheKey, pending);
    }
    return pending;
  }

  private async compile(key: PipelineKey, label: string): Promise<CachedPipeline> {
    const module = await this.shaderModule(key.kernel, key.weightType);
    const layout = this.bindGroupLayout(key.kernel);
    const pipelineLayout = this.ctx.device.createPipelineLayout({ label: `${key.kernel.name} pipeline layout`, bindGroupLayouts: [layout] });
    try {
      const pipeline = await this.ctx.settle(
        this.ctx.device.createComputePipelineAsync({
          label,
          layout: pipelineLayout,
          compute: { module, entryPoint: 'main', constants: { ...key.constants } },
        }),
        `pipeline creation for ${label}`,
      );
      return { pipeline, layout, key, label };
    } catch (error) {
      throw new WebGpuError(`cannot create the ${label} pipeline: ${(error as Error).message}`);
    }
  }
}
