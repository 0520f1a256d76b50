// The same binary carries AVX-512, AVX2+FMA and portable kernels and picks one at run time. This process runs the
// best one in the other test files; here every other variant the CPU can run goes through the op cases AND the
// whole-model tests, in child processes (the choice is made once per process, capped by POOLED_ISA). Each child
// also runs isa_selected.test.ts, which asserts the variant it actually ran. Plus the widening bfloat16 GEMM a CPU
// without AVX512_BF16 uses (POOLED_BF16_DOT=0) and the vdpbf16ps one (POOLED_BF16_DOT=1), and the int8 GEMM of a CPU
// without VNNI (POOLED_INT8_DOT=0).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { loadAddon } from '../../src/backends/native/addon.js';
import { bestIsa, supportedIsas } from './isa_support.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const ISA_PROBE = here('./isa_selected.test.ts');
// Every op case the native ops support (op_cases.ts), plus the native-only properties (bitwise batch invariance,
// fused = unfused, bf16 / f16 sources).
const OP_TESTS = here('./ops_cpu.test.ts');
// Whole models through the native engine, each compared with the float64 reference.
const MODEL_TESTS = ['native_backend', 'native_qwen3', 'native_modernbert'].map((name) => here(`../unit/${name}.test.ts`));

const ran: string[] = [];

function runTests(env: Record<string, string>, files: readonly string[]): void {
  // NODE_TEST_CONTEXT would make the child report to this runner instead of running as a test run of its own.
  const { NODE_TEST_CONTEXT: _context, POOLED_ISA: _isa, POOLED_BF16_DOT: _dot, POOLED_INT8_DOT: _int8Dot, ...parentEnv } = process.env;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=tap', ISA_PROBE, ...files], {
    env: { ...parentEnv, ...env },
    encoding: 'utf8',
    timeout: 480_000,
    maxBuffer: 64 << 20,
  });
  assert.equal(result.status, 0, `tests failed with ${JSON.stringify(env)}:\n${result.stdout}\n${result.stderr}`);
  // Guard against a child that ran nothing or skipped its way to exit 0.
  const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(result.stdout)?.[1] ?? NaN);
  assert.ok(count('pass') > files.length, `too few tests passed with ${JSON.stringify(env)}:\n${result.stdout}`);
  assert.equal(count('skipped'), 0, `a test skipped with ${JSON.stringify(env)}:\n${result.stdout}`);
  assert.match(result.stdout, /^ok \d+ - the dispatcher runs the requested variant/m);
  ran.push(
    `${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}: ${count('pass')} passed`,
  );
}

describe('kernel variants', () => {
  const features = loadAddon().cpuFeatures();
  const best = bestIsa(features);

  after(() => {
    // CI's log says which variants ran (the default one runs every test file in the main run).
    console.log(`# ISA variants: default ${features.isa} (main run); in children: ${ran.join('; ') || 'none'}`);
  });

  test('an unknown POOLED_ISA is an error at load, naming the valid values', () => {
    const { NODE_TEST_CONTEXT: _context, ...parentEnv } = process.env;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '-e', "import('./src/backends/native/addon.ts').then((m) => m.loadAddon().cpuFeatures())"], {
      env: { ...parentEnv, POOLED_ISA: 'avx-512' },
      encoding: 'utf8',
      cwd: here('../../'),
    });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /POOLED_ISA=avx-512 is not a kernel variant; use scalar, avx2 or avx512/);
  });

  for (const isa of supportedIsas(features).filter((v) => v !== best)) {
    test(`${isa} variant: kernel and whole-model tests`, () => {
      runTests({ POOLED_ISA: isa }, [OP_TESTS, ...MODEL_TESTS]);
    });
  }

  // Which bfloat16 GEMM runs by default is measured per CPU (HasBf16DotProduct); both are tested here.
  const hasBf16Instruction = features.isa === 'avx512' && features.avx512bf16;
  test('bfloat16 GEMM with vdpbf16ps (POOLED_BF16_DOT=1)', { skip: !hasBf16Instruction ? 'CPU has no AVX512_BF16' : false }, () => {
    runTests({ POOLED_BF16_DOT: '1' }, [OP_TESTS, MODEL_TESTS[0]]);
  });

  // Each variant above runs the int8 GEMM with VNNI where the CPU has it; the widening (vpmaddwd) tiles here.
  test('int8 GEMM without VNNI (POOLED_INT8_DOT=0)', { skip: !features.int8Dot ? 'the default run already uses the widening int8 tiles' : false }, () => {
    runTests({ POOLED_INT8_DOT: '0' }, [OP_TESTS]);
  });

  test('bfloat16 GEMM widening to float32 on the AVX-512 path (POOLED_BF16_DOT=0)', { skip: features.isa !== 'avx512' ? 'no AVX-512' : false }, () => {
    runTests({ POOLED_BF16_DOT: '0' }, [OP_TESTS, MODEL_TESTS[0]]);
  });
});
