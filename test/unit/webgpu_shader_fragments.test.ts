// The WGSL include step (src/backends/webgpu/shader_source.ts): every kernel's assembled source is complete (no
// include left unresolved, one entry point), every fragment in shaders/fragments/ is really shared, and the repeated
// code lives once on disk. Text only: no GPU needed (the webgpu_*.test.ts files compile and run the same sources).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

import type { KernelSpec } from '../../src/backends/webgpu/kernel_spec.js';
import { expandIncludes, shaderSource } from '../../src/backends/webgpu/shader_source.js';

const SHADER_DIR = fileURLToPath(new URL('../../shaders/', import.meta.url));
const FRAGMENT_DIR = join(SHADER_DIR, 'fragments');
const KERNEL_MODULE_DIR = fileURLToPath(new URL('../../src/backends/webgpu/kernels/', import.meta.url));
const INCLUDE_LIKE = /^[ \t]*\/\/ @include/m;

function isKernelSpec(value: unknown): value is KernelSpec {
  return typeof value === 'object' && value !== null && typeof (value as KernelSpec).file === 'string' && Array.isArray((value as KernelSpec).bindings);
}

/** Every KernelSpec exported by src/backends/webgpu/kernels/*.ts: the pipelines the backend can build. */
async function allKernelSpecs(): Promise<KernelSpec[]> {
  const specs: KernelSpec[] = [];
  for (const file of readdirSync(KERNEL_MODULE_DIR)
    .filter((name) => name.endsWith('.ts'))
    .sort()) {
    const module = (await import(join(KERNEL_MODULE_DIR, file))) as Record<string, unknown>;
    specs.push(...Object.values(module).filter(isKernelSpec));
  }
  return specs;
}

const kernelFiles = readdirSync(SHADER_DIR)
  .filter((name) => name.endsWith('.wgsl'))
  .sort();
const fragmentFiles = readdirSync(FRAGMENT_DIR)
  .filter((name) => name.endsWith('.wgsl'))
  .sort();
const rawShaders = [
  ...kernelFiles.map((name) => readFileSync(join(SHADER_DIR, name), 'utf8')),
  ...fragmentFiles.map((name) => readFileSync(join(FRAGMENT_DIR, name), 'utf8')),
];

function occurrences(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

test('every kernel assembles with no unresolved include and exactly one entry point, in each weight type', async () => {
  const specs = await allKernelSpecs();
  assert.deepEqual([...new Set(specs.map((spec) => spec.file))].sort(), kernelFiles, 'shaders/*.wgsl are exactly the kernels of kernels/*.ts');
  for (const spec of specs) {
    for (const weightType of spec.readsWeights ? (['f32', 'f16'] as const) : (['f32'] as const)) {
      const source = shaderSource(spec.file, weightType);
      assert.doesNotMatch(source, INCLUDE_LIKE, `${spec.file} (${weightType}) has an include line left`);
      assert.equal(occurrences(source, '@compute'), 1, `${spec.file} has one entry point`);
    }
  }
});

test('each fragment states what it expects, has no entry point, and is pasted whole into at least two kernels', () => {
  assert.ok(fragmentFiles.length >= 4, `fragments: ${fragmentFiles.join(', ')}`);
  for (const name of fragmentFiles) {
    const text = readFileSync(join(FRAGMENT_DIR, name), 'utf8');
    assert.match(text, /^\/\/ Fragment, no entry point/, `${name} opens with its header comment`);
    assert.match(text, /Expects/, `${name} says what it expects from the including kernel`);
    assert.doesNotMatch(text, /@compute/, `${name} has no entry point`);
    const users = kernelFiles.filter((kernel) => shaderSource(kernel, 'f32').includes(text));
    assert.ok(users.length >= 2, `${name} is shared, but only ${users.join(', ') || 'no kernel'} includes it`);
  }
});

test('the shared code is written once in shaders/ and appears in every kernel that uses it', () => {
  const cases: { text: string; kernels: string[] }[] = [
    // GEMM tile load (the weight tile, widened from weight_t) and the micro-tile FMA.
    { text: 'value = f32(w[(col0 + r) * k + k0 + c]);', kernels: ['gemm.wgsl', 'gemm_residual_layernorm.wgsl'] },
    { text: 'acc[i][j] = fma(a[i], b[j], acc[i][j]);', kernels: ['gemm.wgsl', 'gemm_residual_layernorm.wgsl'] },
    // The LayerNorm tail of the row kernels.
    {
      text: 'y[out_base + c] = fma((row_values[c] - mean) * inverse_std, ln_params[c], ln_params[HIDDEN + c]);',
      kernels: ['embeddings.wgsl', 'layer_norm.wgsl'],
    },
    // The workgroup tree sum and the activations.
    {
      text: 'sum_scratch[local_index] = sum_scratch[local_index] + sum_scratch[local_index + stride];',
      kernels: ['embeddings.wgsl', 'layer_norm.wgsl', 'pooling.wgsl', 'rms_norm.wgsl'],
    },
    { text: 'fn apply_activation(', kernels: ['activation.wgsl', 'gated_activation.wgsl', 'gemm.wgsl'] },
  ];
  for (const { text, kernels } of cases) {
    assert.equal(
      rawShaders.reduce((count, source) => count + occurrences(source, text), 0),
      1,
      `'${text}' is written once in shaders/`,
    );
    const users = kernelFiles.filter((kernel) => occurrences(shaderSource(kernel, 'f32'), text) === 1);
    assert.deepEqual(users, kernels, `'${text}' is in the assembled ${kernels.join(', ')}`);
  }
});

test('an include that cannot be resolved is an error naming the kernel file', () => {
  const fragments: Record<string, string> = { 'a.wgsl': 'fn a() {}\n', 'nested.wgsl': '// @include a.wgsl\n' };
  const lookup = (name: string): string | undefined => fragments[name];
  assert.equal(expandIncludes('k.wgsl', 'x\n// @include a.wgsl\ny\n', lookup), 'x\nfn a() {}\n\ny\n');
  assert.throws(() => expandIncludes('k.wgsl', '// @include missing.wgsl\n', lookup), /k\.wgsl: @include missing\.wgsl: no such fragment/);
  assert.throws(() => expandIncludes('k.wgsl', '  // @include a.wgsl\n// @include a.wgsl\n', lookup), /k\.wgsl: @include a\.wgsl appears twice/);
  assert.throws(() => expandIncludes('k.wgsl', '// @include nested.wgsl\n', lookup), /nested\.wgsl \(included by k\.wgsl\): a fragment cannot @include/);
  assert.throws(() => expandIncludes('k.wgsl', '// @include a.wgs\n', lookup), /k\.wgsl: malformed include/);
  assert.throws(() => expandIncludes('k.wgsl', '// @include ../gemm.wgsl\n', lookup), /k\.wgsl: malformed include/);
  assert.throws(() => shaderSource('no_such_kernel.wgsl', 'f32'), /no_such_kernel\.wgsl/);
});
