// The one way a backend answers supports(): from the families it implements (a per-backend map keyed by
// ArchitectureSpec name), the weight precisions it computes in, and what each family's spec declares.
import { findArchitecture } from '../model/architectures/registry.js';
import type { HeadName } from '../model/architectures/spec.js';
import type { BackendCapabilities, BackendName, BackendSupportQuery, ComputeDType, Quantization } from './backend.js';

/**
 * Heads computed on the host after any backend, so every backend answers for them: a sequence-classification head is a
 * few matrix-vector products on one pooled row per sequence (src/model/heads/classification.ts).
 */
export const HOST_HEADS: readonly HeadName[] = ['classify'];

/** What a backend implements for one family. */
export interface FamilySupport {
  /** A PagedKvBackend for this family (K/V through block tables: prefix caching, chunked prefill). */
  readonly pagedKv: boolean;
}

export interface CapabilityTable {
  readonly name: BackendName;
  /** Family name -> what this backend implements for it; a family that is absent is not implemented. */
  readonly families: Readonly<Record<string, FamilySupport>>;
  readonly dtypes: readonly ComputeDType[];
  /** How the dtype list reads in a message, with any condition ('float32 and float16 (needs shader-f16)'). */
  readonly dtypesNote: string;
  /** Weight quantizations it has kernels for (with --dtype float32); default none. */
  readonly quantizations?: readonly Quantization[];
  /** Heads this backend runs; default: HOST_HEADS. */
  readonly heads?: readonly HeadName[];
}

export function capabilitiesFrom(table: CapabilityTable): BackendCapabilities {
  return {
    name: table.name,
    supports: (query) => answer(table, query),
  };
}

function answer(table: CapabilityTable, query: BackendSupportQuery): true | string {
  const backend = `the ${table.name} backend`;
  if (!table.dtypes.includes(query.dtype)) return `${backend} does not support --dtype ${query.dtype}; it supports ${table.dtypesNote}`;
  const quantization = query.quantization ?? null;
  if (quantization !== null) {
    const quantizations = table.quantizations ?? [];
    if (!quantizations.includes(quantization)) {
      return `${backend} does not support --quantization ${quantization}; ${quantizations.length > 0 ? `it supports ${quantizations.join(', ')}` : 'it has no quantized kernels (int8 runs on the cpu backend)'}`;
    }
    // Quantized GEMMs take float32 activations and give float32 outputs; the rest of the graph stays float32.
    if (query.dtype !== 'float32')
      return `--quantization ${quantization} computes everything but the GEMMs in float32: use --dtype float32, not ${query.dtype}`;
  }
  const spec = findArchitecture(query.architecture);
  if (spec === undefined) return `'${query.architecture}' is not a registered architecture`;
  const family = Object.hasOwn(table.families, query.architecture) ? table.families[query.architecture] : undefined;
  if (family === undefined) {
    return `${backend} does not run ${spec.displayName} models (architecture '${query.architecture}'); it runs ${Object.keys(table.families).join(', ')}`;
  }
  if (query.pagedKv) {
    if (spec.kvBytesPerToken === null) return `${spec.displayName} models attend ${spec.attention}ly and have no KV cache to page`;
    if (!family.pagedKv) return `${backend} has no paged KV cache for ${spec.displayName} models`;
  }
  const missingHeads = query.heads.filter((head) => !spec.heads.includes(head) || !(table.heads ?? HOST_HEADS).includes(head));
  if (missingHeads.length > 0) {
    return `${backend} cannot run head${missingHeads.length > 1 ? 's' : ''} ${missingHeads.join(', ')} on ${spec.displayName} models (supported: ${spec.heads.filter((head) => (table.heads ?? HOST_HEADS).includes(head)).join(', ') || 'none'})`;
  }
  return true;
}
