// Shrunk ModernBERT checkpoints for tests: the derived ModernBERT-base layout (test/fixtures/models/derived--modernbert-base,
// random weights, bge-small's WordPiece tokenizer as a stand-in) with 4 layers, so layers 0 and 3 are global and 1 and 2
// sliding-window (global_attn_every_n_layers 3, local_attention 128: a token sees 64 on each side).
import { loadModel, type LoadedModelWithOrigin } from '../../src/model/load.js';
import type { SyntheticFloatDType } from '../../src/model/synthetic_checkpoint.js';
import { fixtureModel, type FixtureOptions } from '../fixtures/generate.js';
import { WHOLE_MODEL_INIT_STD } from './whole_model.js';

/** 4 layers, hidden 64, 4 heads of 16, intermediate 96 (Wi: 192 rows); vocabulary 50368, 8192 positions kept. */
export const MODERNBERT_TINY_SHRINK = { numLayers: 4, hiddenSize: 64, numHeads: 4, intermediateSize: 96 } as const;

export async function modernBertFixtureDir(dtype: SyntheticFloatDType = 'F32', extra: Omit<FixtureOptions, 'shrink' | 'dtype'> = {}): Promise<string> {
  return fixtureModel('modernbert-base', { shrink: MODERNBERT_TINY_SHRINK, dtype, initStd: WHOLE_MODEL_INIT_STD, ...extra });
}

export async function loadModernBertFixture(
  dtype: SyntheticFloatDType = 'F32',
  extra: Omit<FixtureOptions, 'shrink' | 'dtype'> = {},
): Promise<LoadedModelWithOrigin> {
  return loadModel(await modernBertFixtureDir(dtype, extra));
}

/** Deterministic pseudo-random token ids in [1000, 30000) (inside the stand-in tokenizer's range; an LCG). */
export function modernBertTokens(length: number, seed: number): Int32Array {
  let state = seed >>> 0;
  return Int32Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return 1000 + (state % 29000);
  });
}
