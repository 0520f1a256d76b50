// A test file whose capability is missing (no WebGPU adapter, no Chromium) skips with one clear line on a developer's
// machine, but fails where the environment promises it: CI sets POOLED_REQUIRE_WEBGPU=1 / POOLED_REQUIRE_CHROMIUM=1
// after installing the Vulkan driver and Chromium, so a check that silently stopped running turns CI red.
import assert from 'node:assert/strict';
import { test } from 'node:test';

export type Capability = 'webgpu' | 'chromium';

const REQUIRE_VARIABLE: Record<Capability, string> = {
  webgpu: 'POOLED_REQUIRE_WEBGPU',
  chromium: 'POOLED_REQUIRE_CHROMIUM',
};

function isRequired(capability: Capability, env: NodeJS.ProcessEnv = process.env): boolean {
  return env[REQUIRE_VARIABLE[capability]] === '1';
}

/** Registers one test for the missing capability: a skip, or a failure when the environment requires it. */
export function missingCapability(capability: Capability, reason: string): void {
  if (isRequired(capability)) {
    test(`${capability} is required here (${REQUIRE_VARIABLE[capability]}=1)`, () => {
      assert.fail(`${capability} is unavailable: ${reason}`);
    });
  } else {
    test.skip(`${capability} unavailable: ${reason} (set ${REQUIRE_VARIABLE[capability]}=1 to make this a failure)`);
  }
}

/** The skip option of a test that needs the capability: false when present; a reason, or a throw when required. */
export function skipUnless(capability: Capability, available: boolean, reason: string): string | false {
  if (available) return false;
  if (isRequired(capability)) throw new Error(`${capability} is required (${REQUIRE_VARIABLE[capability]}=1) but unavailable: ${reason}`);
  return `${capability} unavailable: ${reason}`;
}
