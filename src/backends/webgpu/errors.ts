// Errors of the WebGPU backend. A failure on the GPU side (device lost, a validation or out-of-memory error, a
// shader that does not compile) becomes one of these with the adapter's words in the message, so a request fails
// with a clear 500 instead of hanging or returning garbage.
import { PooledError } from '../../errors.js';

export class WebGpuError extends PooledError {
  constructor(message: string) {
    super(message, { status: 500, type: 'server_error', code: 'webgpu_error' });
  }
}

/** The device is gone (driver reset, destroy(), out of memory): every later call fails fast with this. */
export class WebGpuDeviceLostError extends WebGpuError {
  constructor(
    readonly reason: string,
    detail: string,
  ) {
    super(`WebGPU device lost (${reason})${detail ? `: ${detail}` : ''}`);
  }
}
