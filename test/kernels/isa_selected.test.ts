// Which kernel variant this process runs. In the default run: the best the CPU supports. In the child processes of
// isa_variants.test.ts (POOLED_ISA set): exactly the variant asked for, so a cap that silently failed (and ran the
// default kernels again) cannot pass as a test of the slower path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadAddon } from '../../src/backends/native/addon.js';
import { bestIsa } from './isa_support.js';

test('the dispatcher runs the requested variant, else the best this CPU supports', () => {
  const features = loadAddon().cpuFeatures();
  const requested = process.env.POOLED_ISA;
  assert.equal(features.isa, requested ?? bestIsa(features), `POOLED_ISA=${requested ?? '(unset)'}`);
});
