// The WebGPU device layer: adapter probing, pipeline caching by typed key, and failures that must surface as
// clear errors instead of hangs (device loss, uncaptured validation errors, pipelines that do not compile).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebGpuContext } from '../../src/backends/webgpu/device.js';
import { WebGpuDeviceLostError, WebGpuError } from '../../src/backends/webgpu/errors.js';
import { GEMM_KERNEL, gemmPipelineKey } from '../../src/backends/webgpu/kernels/gemm.js';
import { pipelineKeyString } from '../../src/backends/webgpu/kernel_spec.js';
import { WebGpuOps } from '../../src/backends/webgpu/ops.js';
import { PipelineCache } from '../../src/backends/webgpu/pipeline_cache.js';
import { ModelLoadError } from '../../src/errors.js';
import { webGpuProbe } from './webgpu_support.js';
import { missingCapability } from '../helpers/required_capability.js';

const probe = await webGpuProbe();
if (!probe.available) {
  missingCapability('webgpu', `no WebGPU adapter: ${probe.reason}`);
} else {
  describe('webgpu device', () => {
    let ops: WebGpuOps;
    before(async () => {
      ops = await WebGpuOps.create();
    });
    after(async () => {
      await ops?.dispose();
    });

    it('describes the adapter and the optional features it granted', () => {
      assert.ok(probe.adapter.description.length > 0 || probe.adapter.device.length > 0);
      assert.ok(ops.ctx.adapterName.length > 0);
      assert.equal(typeof ops.ctx.features.shaderF16, 'boolean');
      assert.ok(ops.ctx.limit('maxStorageBufferBindingSize') >= 128 * 1024 * 1024, 'requests the adapter maximum, not the 128 MiB default floor');
    });

    it('refuses an adapter name that matches nothing, listing what exists', async () => {
      await assert.rejects(WebGpuContext.open({ adapterName: 'no-such-adapter-xyz' }), (error: unknown) => {
        assert.ok(error instanceof ModelLoadError);
        assert.match(error.message, /no WebGPU adapter/);
        return true;
      });
    });

    it('caches pipelines by key: same key, same pipeline; constant order does not matter', async () => {
      const cache = new PipelineCache(ops.ctx);
      const key = gemmPipelineKey('f32', { kind: 'activation', activation: 'gelu' }, true);
      const reordered = { ...key, constants: Object.fromEntries(Object.entries(key.constants).reverse()) };
      assert.equal(pipelineKeyString(key), pipelineKeyString(reordered));
      const first = await cache.get(key);
      const second = await cache.get(reordered);
      assert.equal(first, second);
      assert.equal(cache.size, 1);
      assert.match(first.pipeline.label, /^gemm\//, 'the pipeline label names its kernel');
    });

    it('reports a pipeline that cannot be created as a WebGpuError, and does not cache the failure', async () => {
      const cache = new PipelineCache(ops.ctx);
      const bad = { kernel: GEMM_KERNEL, weightType: 'f32' as const, constants: { NO_SUCH_OVERRIDE: 1 } };
      await assert.rejects(cache.get(bad), (error: unknown) => {
        assert.ok(error instanceof WebGpuError);
        assert.match(error.message, /gemm/);
        return true;
      });
      assert.equal(cache.size, 0);
      // The device is still usable afterwards: no stray uncaptured error is left behind.
      const y = await ops.linear([1, 2], 1, 2, [3, 4], null, 1);
      assert.deepEqual(Array.from(y), [11]);
    });

    it('turns an uncaptured validation error into a WebGpuError at the next call', async () => {
      // A buffer usage WebGPU rejects, created outside any error scope.
      ops.ctx.device.createBuffer({ label: 'deliberately invalid', size: 4, usage: 0xffff });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await assert.rejects(ops.linear([1], 1, 1, [1], null, 1), (error: unknown) => {
        assert.ok(error instanceof WebGpuError);
        assert.match(error.message, /invalid/i);
        return true;
      });
      // Reported once; later calls work.
      assert.deepEqual(Array.from(await ops.linear([2], 1, 1, [3], null, 1)), [6]);
    });
  });

  describe('webgpu device loss', () => {
    // The property is "rejects instead of hanging": a hang shows as this test's timeout (a generous guard, not a
    // latency bound; how fast the rejection comes is no part of the contract).
    it('fails fast with WebGpuDeviceLostError once the device is gone, instead of hanging', { timeout: 60_000 }, async () => {
      const ops = await WebGpuOps.create();
      try {
        const prepared = await ops.prepareLinear([1, 2], 1, 2, [3, 4], null, 1);
        // Lose the device behind the context's back, as a driver reset would.
        ops.ctx.device.destroy();
        await new Promise((resolve) => setTimeout(resolve, 50));
        await assert.rejects(prepared.run(1), WebGpuDeviceLostError);
        await assert.rejects(ops.linear([1], 1, 1, [1], null, 1), /device lost/);
      } finally {
        await ops.dispose();
      }
    });
  });
}
