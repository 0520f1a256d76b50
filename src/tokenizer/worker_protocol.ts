// Messages between TokenizerPool and its workers.
import type { EncodeOptions } from './tokenizer.js';

export interface EncodeBatchRequest {
  readonly id: number;
  readonly texts: readonly string[];
  /** The request field each text came from, for error messages (e.g. "input[3]"). */
  readonly params: readonly string[];
  readonly options: Omit<EncodeOptions, 'param'>;
}

export type EncodeResult =
  | { readonly ok: true; readonly ids: Int32Array }
  | { readonly ok: false; readonly message: string; readonly status: number; readonly param: string | null; readonly code: string | null };

export interface EncodeBatchResponse {
  readonly id: number;
  readonly results: EncodeResult[];
}
