// Every family the native CPU backend runs: one line per family (docs/adding-an-architecture.md, "The native graph").
import type { NativeGraphBuilder } from '../graph_builder.js';
import { BERT_NATIVE_GRAPH } from './bert.js';
import { MODERNBERT_NATIVE_GRAPH } from './modernbert.js';
import { QWEN3_NATIVE_GRAPH } from './qwen3.js';

export const NATIVE_GRAPHS: readonly NativeGraphBuilder[] = [BERT_NATIVE_GRAPH, QWEN3_NATIVE_GRAPH, MODERNBERT_NATIVE_GRAPH];

/** The graph builder of a family, or undefined when the native engine does not run it. */
export function nativeGraphFor(architecture: string): NativeGraphBuilder | undefined {
  return NATIVE_GRAPHS.find((graph) => graph.spec.name === architecture);
}
