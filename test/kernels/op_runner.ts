// Runs the op-case table (op_cases.ts) against one backend: one test per supported case, each printing its metric,
// tolerance and measured error; one more test lists every case the backend does not support, with the reason (listed
// rather than skipped, so that isa_variants.test.ts's "nothing skipped" guard keeps its meaning). Not a test file itself.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeTolerance, measure, OP_CASES, referenceOf, toleranceOf, type AnyOpCase, type OpBackend, type OpName } from './op_cases.js';

/** Every typed array among an input's fields, copied: the op must leave its inputs as they were. */
function snapshot(input: object): Map<string, ArrayLike<number>> {
  const copies = new Map<string, ArrayLike<number>>();
  for (const [key, value] of Object.entries(input)) {
    if (ArrayBuffer.isView(value)) copies.set(key, (value as Float32Array).slice());
  }
  return copies;
}

export function defineOpCaseTests(backend: OpBackend): { numRun: number; numUnsupported: number } {
  const byOp = new Map<OpName, AnyOpCase[]>();
  for (const c of OP_CASES) byOp.set(c.op, [...(byOp.get(c.op) ?? []), c]);
  const unsupported: [AnyOpCase, string][] = [];
  let numRun = 0;
  for (const [op, cases] of byOp) {
    describe(`${backend.name} ${op}`, () => {
      for (const c of cases) {
        const reason = backend.unsupported(c);
        if (reason !== null) {
          unsupported.push([c, reason]);
          continue;
        }
        numRun++;
        test(c.name, async (t) => {
          const input = c.input();
          c.precondition?.(input as never);
          const before = snapshot(input);
          const got = await backend.run(c, input);
          for (const [key, copy] of before) assert.deepEqual((input as unknown as Record<string, unknown>)[key], copy, `the input ${key} is not modified`);
          const want = referenceOf(c, input, backend.traits);
          const tolerance = toleranceOf(c, backend.name, input, want, backend.traits);
          const error = measure(tolerance, got, want);
          t.diagnostic(`${describeTolerance(tolerance)}: measured ${error.toExponential(2)}`);
          assert.ok(error <= tolerance.max, `${op} ${c.name} on ${backend.name}: ${describeTolerance(tolerance)}, measured ${error}`);
          c.exact?.(input as never, got);
        });
      }
    });
  }
  test(`${backend.name}: op cases it does not support (listed, not run)`, (t) => {
    for (const [c, reason] of unsupported) t.diagnostic(`${c.op} ${c.name}: ${reason}`);
    t.diagnostic(`${numRun} of ${OP_CASES.length} cases run on ${backend.name}, ${unsupported.length} not supported`);
    assert.equal(numRun + unsupported.length, OP_CASES.length);
  });
  return { numRun, numUnsupported: unsupported.length };
}
