// The console summary of a load point, laid out like AIPerf's table (one row per metric, statistics as
// columns), plus the lines AIPerf has no room for: tokens/s, goodput, errors by status, and where the latency
// went (the server's stage times).
import { DISTRIBUTION_METRICS, SCALAR_METRICS, type LatencyBreakdownSummary, type ProfileSummary } from './aggregate.js';
import type { SweepRow } from './artifacts.js';
import { NEURONPERF_COLUMNS, neuronperfRow } from './neuronperf_table.js';
import { describeInputVariant, describeLoadPoint } from './options.js';

const STAT_COLUMNS = ['avg', 'min', 'max', 'p1', 'p5', 'p25', 'p50', 'p75', 'p90', 'p95', 'p99', 'std'] as const;

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const digits = Math.abs(value) >= 100 ? 1 : 2;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `│ ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' │ ')} │`;
  const rule = (left: string, middle: string, right: string): string => `${left}${widths.map((w) => '─'.repeat(w + 2)).join(middle)}${right}`;
  return [rule('┌', '┬', '┐'), line(header), rule('├', '┼', '┤'), ...rows.map(line), rule('└', '┴', '┘')].join('\n');
}

/** Rows of the latency split: component, mean, p50, p99, share of the mean latency. */
export function breakdownRows(breakdown: LatencyBreakdownSummary): string[][] {
  const rows = breakdown.components.map((c) => [
    c.label,
    formatNumber(c.avg_ms),
    formatNumber(c.p50_ms),
    formatNumber(c.p99_ms),
    `${(c.share * 100).toFixed(1)}%`,
  ]);
  rows.push(['Request latency', formatNumber(breakdown.request_latency_avg_ms), '', '', '100.0%']);
  return rows;
}

export const BREAKDOWN_HEADER = ['Component', 'avg ms', 'p50 ms', 'p99 ms', 'share of avg'] as const;

export function formatSummary(summary: ProfileSummary, title: string): string {
  const distributionRows = DISTRIBUTION_METRICS.flatMap(([key, label]) => {
    const stats = summary[key];
    return stats ? [[`${label} (${stats.unit})`, ...STAT_COLUMNS.map((c) => formatNumber(stats[c]))]] : [];
  });
  const scalarRows = SCALAR_METRICS.flatMap(([key, label]) => {
    const metric = summary[key];
    return metric ? [[`${label} (${metric.unit})`, formatNumber(metric.avg)]] : [];
  });
  const sections = [title];
  if (distributionRows.length > 0) sections.push(renderTable(['Metric', ...STAT_COLUMNS], distributionRows));
  else sections.push('No request succeeded: no latency or token statistics.');
  if (summary.latency_breakdown) {
    sections.push(
      `Latency breakdown (server x-*-time headers, ${formatNumber(summary.latency_breakdown.request_count)} requests)`,
      renderTable(BREAKDOWN_HEADER, breakdownRows(summary.latency_breakdown)),
    );
  }
  sections.push(renderTable(['Metric', 'Value'], scalarRows));
  const errorRows = Object.entries(summary.error_count_by_status).map(([status, count]) => [status, formatNumber(count)]);
  if (errorRows.length > 0) {
    sections.push(renderTable(['Error', 'Count'], errorRows));
    for (const entry of summary.error_summary.slice(0, 5)) {
      sections.push(
        `  ${entry.count} x ${entry.error_details.type}${entry.error_details.code === null ? '' : ` ${entry.error_details.code}`}: ${entry.error_details.message}`,
      );
    }
  }
  if (summary.input_tokens === null && summary.request_count.avg > 0) {
    sections.push('The server reported no token usage; input tokens/s is unavailable.');
  }
  return `${sections.join('\n')}\n`;
}

export function formatSweep(rows: readonly SweepRow[]): string {
  const body = rows.map((row) => {
    const latency = row.summary.request_latency;
    const cell = (value: number | undefined | null): string => (value === undefined || value === null ? '-' : formatNumber(value));
    return [
      row.variant ? `${describeInputVariant(row.variant)} ${describeLoadPoint(row.load)}` : describeLoadPoint(row.load),
      cell(row.summary.request_throughput.avg),
      cell(row.summary.input_token_throughput?.avg),
      cell(latency?.p50),
      cell(latency?.p90),
      cell(latency?.p99),
      cell(row.summary.error_request_count.avg),
    ];
  });
  return `Sweep summary\n${renderTable(['Load', 'Requests/s', 'Tokens/s', 'p50 ms', 'p90 ms', 'p99 ms', 'Errors'], body)}\n`;
}

/** The neuronperf table of an input sweep: one row per (batch size, sequence length, load point). */
export function formatNeuronperf(rows: readonly SweepRow[], numModels: number, costPerHour: number | null): string {
  const cell = (value: number | null): string => (value === null ? '-' : formatNumber(value));
  const body = rows.map((row) => {
    const r = neuronperfRow(row, numModels, costPerHour);
    return NEURONPERF_COLUMNS.map((column) => (column === 'cost_per_1m_inferences' && r[column] !== null ? `$${r[column]!.toPrecision(3)}` : cell(r[column])));
  });
  const note = costPerHour === null ? ' (--cost-per-hour adds cost per 1M inferences)' : ` (at $${costPerHour}/hour)`;
  return `Neuronperf table${note}\n${renderTable(NEURONPERF_COLUMNS, body)}\n`;
}
