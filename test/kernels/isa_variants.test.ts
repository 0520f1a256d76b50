// The same binary carries AVX-512, AVX2+FMA and portable kernels and picks one at run time. This machine runs the
// best one in the other test files; here every other variant it can run goes through the same kernel tests, in
// child processes (the choice is made once per process, capped by POOLED_ISA), plus the widening bfloat16 GEMM
// a CPU without AVX512_BF16 uses (POOLED_BF16_DOT=0) and the vdpbf16ps one (POOLED_BF16_DOT=1).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { loadAddon } from '../../src/backends/native/addon.js';

const KERNEL_TESTS = ['gemm', 'layer_norm', 'bias_activation', 'embeddings', 'attention', 'pooling', 'qwen3_rms_norm', 'qwen3_rope', 'qwen3_swiglu', 'qwen3_paged_attention'].map((name) =>
  fileURLToPath(new URL(`./${name}.test.ts`, import.meta.url)),
);

function runKernelTests(env: Record<string, string>, files: readonly string[]): void {
  // NODE_TEST_CONTEXT would make the child report to this runner instead of running as a test run of its own.
  const { NODE_TEST_CONTEXT: _context, ...parentEnv } = process.env;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', ...files], {
    env: { ...parentEnv, ...env },
    encoding: 'utf8',
    timeout: 240_000,
  });
  assert.equal(result.status, 0, `kernel tests failed with ${JSON.stringify(env)}:\n${result.stdout}\n${result.stderr}`);
  // Guard against a child that ran nothing (exit 0 with no tests).
  const passed = /^# pass (\d+)$/m.exec(result.stdout);
  assert.ok(passed !== null && Number(passed[1]) > 0, `no kernel test ran with ${JSON.stringify(env)}:\n${result.stdout}`);
}

describe('kernel variants', () => {
  const features = loadAddon().cpuFeatures();

  test('the dispatcher picked the best variant this CPU supports', () => {
    const expected = features.avx512f && features.avx512bw && features.avx512vl ? 'avx512' : features.avx2 && features.fma && features.f16c ? 'avx2' : 'scalar';
    assert.equal(features.isa, process.env.POOLED_ISA === undefined ? expected : features.isa);
  });

  test('AVX2 + FMA variant', { skip: !features.avx2 || !features.fma ? 'CPU has no AVX2/FMA' : false }, () => {
    runKernelTests({ POOLED_ISA: 'avx2' }, KERNEL_TESTS);
  });

  test('portable variant', () => {
    runKernelTests({ POOLED_ISA: 'scalar' }, KERNEL_TESTS);
  });

  // Which bfloat16 GEMM runs by default is measured per CPU (HasBf16DotProduct); both are tested here.
  const hasBf16Instruction = features.isa === 'avx512' && features.avx512bf16;
  test('bfloat16 GEMM with vdpbf16ps (POOLED_BF16_DOT=1)', { skip: !hasBf16Instruction ? 'CPU has no AVX512_BF16' : false }, () => {
    runKernelTests({ POOLED_BF16_DOT: '1' }, [KERNEL_TESTS[0]]);
  });

  test('bfloat16 GEMM widening to float32 on the AVX-512 path (POOLED_BF16_DOT=0)', { skip: features.isa !== 'avx512' ? 'no AVX-512' : false }, () => {
    runKernelTests({ POOLED_BF16_DOT: '0' }, [KERNEL_TESTS[0]]);
  });
});
