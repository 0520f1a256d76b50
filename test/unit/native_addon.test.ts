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
});
