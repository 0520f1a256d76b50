// Every family the native CPU backend runs: one line per family (docs/adding-an-architecture.md, "The native graph").
import type { NativeGraphBuilder } from '../graph_builder.js';
import { BERT_NATIVE_GRAPH } from './bert.js';
import { ERNIE_NATIVE_GRAPH } from './ernie.js';
import { MODERNBERT_NATIVE_GRAPH } from './modernbert.js';
import { QWEN3_NATIVE_GRAPH } from './qwen3.js';
import { ROBERTA_NATIVE_GRAPH } from './roberta.js';
import { GTE_NATIVE_GRAPH, NOMIC_BERT_NATIVE_GRAPH } from './rotary_bert.js';

export const NATIVE_GRAPHS: readonly NativeGraphBuilder[] = [
  BERT_NATIVE_GRAPH,
  ROBERTA_NATIVE_GRAPH,
  ERNIE_NATIVE_GRAPH,
  QWEN3_NATIVE_GRAPH,
  NOMIC_BERT_NATIVE_GRAPH,
  GTE_NATIVE_GRAPH,
  MODERNBERT_NATIVE_GRAPH,
];

/** The graph builder of a family, or undefined when the native engine does not run it. */
export function nativeGraphFor(architecture: string): NativeGraphBuilder | undefined {
  return NATIVE_GRAPHS.find((graph) => graph.spec.name === architecture);
}
