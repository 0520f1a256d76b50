// Whole-model comparisons against the float64 reference backend: one error measure, one assertion and one record of
// the worst error seen, shared by every backend's whole-model test so their bounds are comparable.
import assert from 'node:assert/strict';
import { after } from 'node:test';

/**
 * Init std of the fixtures whole-model tests use (matrices, embeddings, biases). The generator's default 0.02 keeps
 * attention nearly uniform and GELU inputs where tanh and erf GELU agree to 1e-4, so a wrong activation or a
 * LayerNorm eps ignored would still match the reference; at 0.1 attention scores spread over several units and
 * GELU sees inputs of a few units, where those mistakes move the embedding by 1e-3 or more.
 */
export const WHOLE_MODEL_INIT_STD = 0.1;

/** Bounds on one pooled row against its float64 reference row. */
export interface RowTolerance {
  /** Largest allowed 1 - cos(actual, expected). */
  readonly cosineDistance: number;
  /** Largest allowed |actual[i] - expected[i]|. */
  readonly maxAbs: number;
}

export interface RowError {
  readonly cosineDistance: number;
  readonly maxAbs: number;
}

/** 1 - cos and max |a - b|, both summed in float64 (float32 inputs are exact in float64). */
export function rowError(actual: ArrayLike<number>, expected: ArrayLike<number>): RowError {
  assert.equal(actual.length, expected.length, 'row length');
  let dot = 0;
  let normA = 0;
  let normE = 0;
  let maxAbs = 0;
  for (let i = 0; i < actual.length; i++) {
    dot += actual[i] * expected[i];
    normA += actual[i] * actual[i];
    normE += expected[i] * expected[i];
    const diff = Math.abs(actual[i] - expected[i]);
    if (!(diff <= maxAbs)) maxAbs = Number.isNaN(diff) ? Infinity : diff;
  }
  const cosineDistance = 1 - dot / Math.sqrt(normA * normE);
  return { cosineDistance: Number.isNaN(cosineDistance) ? Infinity : cosineDistance, maxAbs };
}

/**
 * Keeps the worst error per label and prints it after the file's tests (`# worst vs reference ...`), which is where
 * the measured figures written beside each bound come from.
 */
export class WorstErrors {
  private readonly labelToWorst = new Map<string, { cosineDistance: number; maxAbs: number }>();

  constructor(private readonly title: string) {
    after(() => {
      for (const [label, worst] of this.labelToWorst) {
        console.log(`# worst vs reference, ${this.title} ${label}: 1 - cos ${worst.cosineDistance.toExponential(2)}, max abs ${worst.maxAbs.toExponential(2)}`);
      }
    });
  }

  record(label: string, error: RowError): void {
    const worst = this.labelToWorst.get(label) ?? { cosineDistance: 0, maxAbs: 0 };
    worst.cosineDistance = Math.max(worst.cosineDistance, error.cosineDistance);
    worst.maxAbs = Math.max(worst.maxAbs, error.maxAbs);
    this.labelToWorst.set(label, worst);
  }
}

/** Asserts both bounds on one row; `worst` (under `key`) records the error whether or not it passes. */
export function assertRowClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: RowTolerance,
  what: string,
  worst?: { errors: WorstErrors; key: string },
): void {
  const error = rowError(actual, expected);
  worst?.errors.record(worst.key, error);
  assert.ok(
    error.cosineDistance <= tolerance.cosineDistance && error.maxAbs <= tolerance.maxAbs,
    `${what}: 1 - cos ${error.cosineDistance.toExponential(3)} (bound ${tolerance.cosineDistance}), ` +
      `max abs ${error.maxAbs.toExponential(3)} (bound ${tolerance.maxAbs})`,
  );
}

/** assertRowClose over every row of a batch. */
export function assertRowsClose(
  actual: readonly ArrayLike<number>[],
  expected: readonly ArrayLike<number>[],
  tolerance: RowTolerance,
  what: string,
  worst?: { errors: WorstErrors; key: string },
): void {
  assert.equal(actual.length, expected.length, `${what}: row count`);
  actual.forEach((row, i) => assertRowClose(row, expected[i], tolerance, `${what}: row ${i}`, worst));
}
