// What the native CPU backend needs to know about one model family: which C++ graph runs it
// (native/engine/engine_factory.cpp picks it by `family`) and the config that graph parses. One file per family in
// ./graphs/, listed in ./graphs/index.ts; everything else (encoder vs paged decoder backend, capabilities) follows from
// the family's ArchitectureSpec. Type-only imports of ./addon.ts, so the capability answers never load the addon.
import type { ArchitectureSpec } from '../../model/architectures/spec.js';
import type { ModelConfig } from '../../model/types.js';
import type { NativeEngineChoice, NativeModelDimensions } from './addon.js';

export interface NativeGraphBuilder<C extends ModelConfig = ModelConfig> {
  /** The family this graph runs. Families whose spec declares a KV cache get the paged backend (./paged_backend.ts). */
  readonly spec: ArchitectureSpec<C>;
  /** The engine family name and the config fields its C++ parser reads (native/engine/graphs/<family>.cpp). */
  engineChoice(config: C): NativeEngineChoice;
}

/** Builds a builder with its config type checked against its spec, stored under the common type. */
export function nativeGraph<C extends ModelConfig>(builder: NativeGraphBuilder<C>): NativeGraphBuilder {
  return builder as unknown as NativeGraphBuilder;
}

/** The dimensions every engine's config starts with, copied from the model's config. */
export function engineDimensions(config: NativeModelDimensions): NativeModelDimensions {
  return {
    vocabSize: config.vocabSize,
    hiddenSize: config.hiddenSize,
    numLayers: config.numLayers,
    numHeads: config.numHeads,
    intermediateSize: config.intermediateSize,
    maxPositionEmbeddings: config.maxPositionEmbeddings,
  };
}
