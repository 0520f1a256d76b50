// The per-request JSONL (profile_export.jsonl), in AIPerf's record shape: {metadata, metrics, error}, one
// request per line. Written by the profiler, read back by the report; both directions live here so the
// format has one definition. Every line validates as AIPerf 0.13's MetricRecordInfo (its `aiperf plot` data
// loader parses each line with it), which requires metadata.record_processor_id; test/upstream/test_aiperf.py
// checks that with AIPerf's own model.
import { breakdownOf } from './latency_breakdown.js';
import type { RequestRecord } from './records.js';
import { requestLatencyMs } from './records.js';

interface MetricValue {
  readonly value: number;
  readonly unit: string;
}

export interface JsonlRecord {
  readonly metadata: {
    readonly session_num: number;
    readonly x_request_id: string;
    readonly x_correlation_id: string;
    readonly conversation_id: string;
    readonly turn_index: 0;
    readonly request_start_ns: number;
    readonly request_ack_ns: number | null;
    readonly request_end_ns: number;
    readonly worker_id: string;
    /** AIPerf runs records through separate processor services; here the profiling process is the one processor. */
    readonly record_processor_id: string;
    readonly benchmark_phase: 'warmup' | 'profiling';
    readonly phase_name: 'warmup' | 'profiling';
    readonly phase_kind: 'warmup' | 'profiling';
    readonly was_cancelled: false;
  };
  readonly metrics: Readonly<Record<string, MetricValue>>;
  readonly error: RequestRecord['error'];
}

const BIGINT_MARK = '__ns__';
const RECORD_PROCESSOR_ID = 'pooled_profile';

/** One JSON line; nanosecond timestamps are written as exact integers (they exceed 2^53). */
export function recordToJsonLine(record: RequestRecord): string {
  const metrics: Record<string, MetricValue> = {};
  const put = (name: string, value: number | null, unit: string): void => {
    if (value !== null) metrics[name] = { value, unit };
  };
  if (record.error === null) {
    put('request_latency', requestLatencyMs(record), 'ms');
    put('input_tokens', record.usageInputTokens, 'tokens');
    put('time_to_first_token', record.timeToFirstTokenMs, 'ms');
    put('inter_token_latency', record.interTokenLatencyMs, 'ms');
    put('output_sequence_length', record.outputTokens, 'tokens');
  } else {
    put('error_request_latency', requestLatencyMs(record), 'ms');
  }
  // Beyond AIPerf: the server's stage times and what is left for network + HTTP (latency_breakdown.ts).
  const breakdown = breakdownOf(record);
  if (breakdown) for (const [name, value] of Object.entries(breakdown)) put(name, value, 'ms');
  put('input_sequence_length', record.inputSequenceLength, 'tokens');
  put('batch_size', record.batchSize, 'inputs');
  const line = {
    metadata: {
      session_num: record.sessionNum,
      x_request_id: record.xRequestId,
      // Single-turn: each request is its own session, so the correlation id is the request id (as AIPerf writes it).
      x_correlation_id: record.xRequestId,
      conversation_id: record.conversationId,
      turn_index: 0,
      request_start_ns: `${BIGINT_MARK}${record.requestStartNs}`,
      request_ack_ns: record.requestAckNs === null ? null : `${BIGINT_MARK}${record.requestAckNs}`,
      request_end_ns: `${BIGINT_MARK}${record.requestEndNs}`,
      worker_id: record.workerId,
      record_processor_id: RECORD_PROCESSOR_ID,
      benchmark_phase: record.phase,
      phase_name: record.phase,
      phase_kind: record.phase,
      was_cancelled: false,
    },
    metrics,
    error: record.error,
  };
  return JSON.stringify(line).replace(new RegExp(`"${BIGINT_MARK}(\\d+)"`, 'g'), '$1');
}

/** Parses profile_export.jsonl; timestamps come back as numbers (sub-microsecond precision is lost, which charts never need). */
export function parseJsonlRecords(text: string): JsonlRecord[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as JsonlRecord);
}
