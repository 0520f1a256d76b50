// The addon builds with `npm ci`, loads, and reports what the run-time dispatcher detected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { loadAddon } from '../../src/backends/native/addon.js';

test('the addon loads and reports the package version and the CPU it found', () => {
  const addon = loadAddon();
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(addon.version, pkg.version);
  const f = addon.cpuFeatures();
  assert.equal(f.arch, process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'arm64' : 'unknown');
  assert.ok(['avx512', 'avx2', 'scalar'].includes(f.isa));
  // A consistent report: an ISA is only chosen when its features are all present.
  if (f.isa === 'avx512') assert.ok(f.avx512f && f.avx512bw && f.avx512vl && f.avx2 && f.fma);
  if (f.isa === 'avx2') assert.ok(f.avx2 && f.fma);
  if (f.avx512bf16 || f.avx512vnni) assert.ok(f.avx512f, 'AVX-512 extensions imply AVX-512F');
  if (f.avxvnni) assert.ok(f.avx2, 'AVX-VNNI implies AVX2');
  // int8 GEMMs use a VNNI instruction exactly when the selected kernels can: AVX512-VNNI on the AVX-512 path; AVX-VNNI
  // or AVX512-VNNI+VL on the AVX2 path (unless POOLED_INT8_DOT=0 forces the widening kernels).
  const canDot = f.isa === 'avx512' ? f.avx512vnni : f.isa === 'avx2' ? f.avxvnni || (f.avx512vnni && f.avx512vl) : false;
  assert.equal(f.int8Dot, canDot && process.env.POOLED_INT8_DOT !== '0');
});
