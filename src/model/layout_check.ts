// The one check every architecture's weights go through: checkpoint tensors (renamed to canonical names) against
// the layout the config implies.
import { ModelLoadError } from '../errors.js';
import { isFloatDType } from './tensor_data.js';
import type { TensorView, WeightMap } from './types.js';

export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

export interface LayoutCheck {
  /** e.g. 'BERT', 'Qwen3', for messages. */
  readonly architecture: string;
  readonly numLayers: number;
  /** True for names inside the model's own namespaces, where an unknown tensor means a different model. */
  readonly isOwnNamespace: (name: string) => boolean;
}

/**
 * Every required tensor present with the exact shape and a float dtype, nothing unknown inside the model's own
 * namespaces (anything else is a head we don't run, like transformers' "weights of the checkpoint were not used").
 * Returns the weights in canonical order, so every consumer iterates the same way regardless of file order.
 */
export function checkWeightsAgainstLayout(
  canonicalToView: ReadonlyMap<string, TensorView>,
  required: readonly TensorSpec[],
  check: LayoutCheck,
  file: string,
): WeightMap {
  const requiredNames = new Set(required.map((spec) => spec.name));
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const spec of required) {
    const view = canonicalToView.get(spec.name);
    if (view === undefined) {
      missing.push(spec.name);
    } else if (!isFloatDType(view.dtype)) {
      mismatched.push(`${spec.name}: dtype ${view.dtype}, expected a float dtype (F32, F16, BF16)`);
    } else if (view.shape.length !== spec.shape.length || view.shape.some((dim, axis) => dim !== spec.shape[axis])) {
      mismatched.push(`${spec.name}: shape [${view.shape.join(', ')}], expected [${spec.shape.join(', ')}]`);
    }
  }
  const unexpected = [...canonicalToView.keys()].filter((name) => !requiredNames.has(name) && check.isOwnNamespace(name));

  const problems: string[] = [];
  if (missing.length > 0) problems.push(`missing ${missing.length} tensor(s): ${abbreviate(missing)}`);
  if (mismatched.length > 0) problems.push(`mismatched: ${abbreviate(mismatched)}`);
  if (unexpected.length > 0) problems.push(`unexpected tensor(s) not in a ${check.numLayers}-layer ${check.architecture}: ${abbreviate(unexpected)}`);
  if (problems.length > 0) {
    throw new ModelLoadError(`${file}: checkpoint does not match config.json (${check.architecture}): ${problems.join('; ')}`);
  }
  const weights = new Map<string, TensorView>();
  for (const spec of required) weights.set(spec.name, canonicalToView.get(spec.name)!);
  return weights;
}

/** Keeps error messages readable for a checkpoint that is wrong everywhere. */
function abbreviate(items: readonly string[], limit = 12): string {
  return items.length <= limit ? items.join(', ') : `${items.slice(0, limit).join(', ')}, ... (${items.length - limit} more)`;
}
