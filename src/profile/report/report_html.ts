// The report page: one self-contained HTML file (inline CSS and SVG, no script, no fonts or images fetched),
// so it opens offline, can be mailed or attached to a CI run, and renders the same in headless Chromium.
import { DISTRIBUTION_METRICS, SCALAR_METRICS } from '../aggregate.js';
import { BREAKDOWN_HEADER, breakdownRows, formatNumber } from '../console_table.js';
import { describeLoadPoint } from '../options.js';
import { runConfig, type ArtifactSet, type PointArtifacts } from './artifact_reader.js';
import { costPerMillion, formatCost } from './cost.js';
import { NEURONPERF_COLUMNS, type NeuronperfRow } from '../neuronperf_table.js';
import { breakdownChart, neuronperfCharts, pointCharts, sweepBreakdownChart, sweepChart } from './report_charts.js';
import { escapeXml as escapeHtml, type Chart } from './svg_charts.js';

export interface ReportSettings {
  /** Hourly price of the serving machine; adds cost per million requests and per million input tokens. */
  readonly costPerHour: number | null;
  readonly generatedAt: Date;
}

export interface RenderedReport {
  readonly html: string;
  /** Every chart on the page, in page order (the PNG export renders these). */
  readonly charts: readonly Chart[];
}

const STAT_COLUMNS = ['avg', 'min', 'max', 'p1', 'p5', 'p25', 'p50', 'p75', 'p90', 'p95', 'p99', 'std'] as const;

const STYLE = `
body { font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #1a1a1a; background: #fafafa; }
h1 { margin: 0 0 4px; font-size: 24px; } h2 { margin: 32px 0 12px; font-size: 20px; border-bottom: 2px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 8px; }
.meta { color: #555; margin: 2px 0; } code { background: #eee; padding: 2px 4px; border-radius: 3px; font-size: 12px; word-break: break-all; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 10px 14px; min-width: 150px; }
.card .value { font-size: 22px; font-weight: bold; } .card .label { color: #666; font-size: 12px; }
table { border-collapse: collapse; background: #fff; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; } th { background: #f0f0f0; }
td:first-child, th:first-child, td.text { text-align: left; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 16px; max-width: 1480px; }
.charts svg { border: 1px solid #ddd; border-radius: 6px; background: #fff; width: 100%; max-width: 720px; height: auto; }
.error { color: #b00020; }
`;

function card(label: string, value: string): string {
  return `<div class="card"><div class="value">${escapeHtml(value)}</div><div class="label">${escapeHtml(label)}</div></div>`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = `<tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  // Numbers right-aligned so digits line up; text (series names, error messages) reads better left-aligned.
  const cellHtml = (cell: string): string =>
    /^[-+$]?[\d.,]+[%kM]?$/.test(cell) || cell === '-' ? `<td>${escapeHtml(cell)}</td>` : `<td class="text">${escapeHtml(cell)}</td>`;
  const body = rows.map((row) => `<tr>${row.map(cellHtml).join('')}</tr>`).join('');
  return `<table>${head}${body}</table>`;
}

function breakdownSection(point: PointArtifacts, chart: Chart | null): string[] {
  const breakdown = point.aggregate.latency_breakdown;
  if (!breakdown) return [];
  return [
    `<h3>Latency breakdown</h3><p class="meta">From the server's x-tokenization-time, x-queue-time and x-inference-time headers (${formatNumber(breakdown.request_count)} requests); network + HTTP is the rest of the latency the client measured.</p>`,
    chart ? `<div class="charts">${chart.svg}</div>` : '',
    table(BREAKDOWN_HEADER, breakdownRows(breakdown)),
  ];
}

function pointSection(point: PointArtifacts, charts: readonly Chart[], settings: ReportSettings, heading: string, breakdown: Chart | null): string {
  const a = point.aggregate;
  const latency = a.request_latency;
  const cards = [
    card('requests/s', formatNumber(a.request_throughput.avg)),
    card('input tokens/s (usage)', a.input_token_throughput ? formatNumber(a.input_token_throughput.avg) : 'n/a'),
    card('p50 latency (ms)', latency ? formatNumber(latency.p50) : 'n/a'),
    card('p99 latency (ms)', latency ? formatNumber(latency.p99) : 'n/a'),
    card('successful / failed', `${a.request_count.avg} / ${a.error_request_count.avg}`),
  ];
  if (a.goodput) cards.push(card('goodput (requests/s)', formatNumber(a.goodput.avg)));
  if (settings.costPerHour !== null) {
    cards.push(card('cost per 1M requests', formatCost(costPerMillion(settings.costPerHour, a.request_throughput.avg))));
    if (a.input_token_throughput) cards.push(card('cost per 1M input tokens', formatCost(costPerMillion(settings.costPerHour, a.input_token_throughput.avg))));
  }
  const distributionRows = DISTRIBUTION_METRICS.flatMap(([key, label]) => {
    const stats = a[key];
    return stats ? [[`${label} (${stats.unit})`, ...STAT_COLUMNS.map((c) => formatNumber(stats[c]))]] : [];
  });
  const scalarRows = SCALAR_METRICS.flatMap(([key, label]) => {
    const metric = a[key];
    return metric ? [[`${label} (${metric.unit})`, formatNumber(metric.avg)]] : [];
  });
  const parts = [
    `<section class="point" id="point-${escapeHtml(point.name)}">`,
    `<h2>${escapeHtml(heading)}</h2>`,
    `<div class="cards">${cards.join('')}</div>`,
  ];
  if (a.was_cancelled) parts.push('<p class="error">This run was stopped early (Ctrl-C); it covers the requests finished by then.</p>');
  parts.push(`<div class="charts">${charts.map((c) => c.svg).join('')}</div>`);
  parts.push(...breakdownSection(point, breakdown));
  if (distributionRows.length > 0) parts.push('<h3>Per-request metrics</h3>', table(['Metric', ...STAT_COLUMNS], distributionRows));
  parts.push('<h3>Run metrics</h3>', table(['Metric', 'Value'], scalarRows));
  if (a.error_summary.length > 0) {
    parts.push(
      '<h3>Errors</h3>',
      table(
        ['Status', 'Count'],
        Object.entries(a.error_count_by_status).map(([status, count]) => [status, String(count)]),
      ),
      table(
        ['Type', 'Code', 'Message', 'Count'],
        a.error_summary.map((e) => [
          e.error_details.type,
          e.error_details.code === null ? '-' : String(e.error_details.code),
          e.error_details.message,
          String(e.count),
        ]),
      ),
    );
  }
  if (point.serverMetricsDelta && Object.keys(point.serverMetricsDelta).length > 0) {
    const rows = Object.entries(point.serverMetricsDelta)
      .slice(0, 40)
      .map(([series, delta]) => [series, formatNumber(delta)]);
    parts.push('<h3>Server /metrics, change during the run</h3>', table(['Series', 'Change'], rows));
  }
  parts.push('</section>');
  return parts.join('\n');
}

function sweepSection(set: ArtifactSet, charts: readonly Chart[], settings: ReportSettings): string {
  const header = ['Load', 'Requests/s', 'Input tokens/s', 'p50 ms', 'p90 ms', 'p99 ms', 'Errors'];
  if (settings.costPerHour !== null) header.push('Cost / 1M requests', 'Cost / 1M tokens');
  const rows = set.points.map((p) => {
    const a = p.aggregate;
    const cell = (v: number | undefined): string => (v === undefined ? '-' : formatNumber(v));
    const row = [
      p.name,
      cell(a.request_throughput.avg),
      cell(a.input_token_throughput?.avg),
      cell(a.request_latency?.p50),
      cell(a.request_latency?.p90),
      cell(a.request_latency?.p99),
      String(a.error_request_count.avg),
    ];
    if (settings.costPerHour !== null) {
      row.push(
        formatCost(costPerMillion(settings.costPerHour, a.request_throughput.avg)),
        formatCost(a.input_token_throughput ? costPerMillion(settings.costPerHour, a.input_token_throughput.avg) : null),
      );
    }
    return row;
  });
  return `<section id="sweep"><h2>Sweep</h2><div class="charts">${charts.map((c) => c.svg).join('')}</div>${table(header, rows)}</section>`;
}

/** The neuronperf table; --cost-per-hour given to the report overrides the price the run was given. */
function neuronperfSection(rows: readonly NeuronperfRow[], charts: readonly Chart[], costPerHour: number | null): string {
  const cell = (value: number | null): string => (value === null ? '-' : formatNumber(value));
  const body = rows.map((row) => {
    const cost = costPerHour !== null && row.throughput_inferences_per_s > 0 ? (costPerHour / 3600 / row.throughput_inferences_per_s) * 1e6 : null;
    return NEURONPERF_COLUMNS.map((column) => (column === 'cost_per_1m_inferences' ? formatCost(cost) : cell(row[column])));
  });
  const price = costPerHour === null ? 'no hourly price given (--cost-per-hour)' : `costs at $${costPerHour} per hour`;
  return (
    `<section id="neuronperf"><h2>Batch size and sequence length sweep (neuronperf table)</h2>` +
    `<p class="meta">One request carries batch_size inputs of seq_len tokens; workers_per_model = requests in flight / n_models; ${escapeHtml(price)}.</p>` +
    `<div class="charts">${charts.map((c) => c.svg).join('')}</div>${table(NEURONPERF_COLUMNS, body)}</section>`
  );
}

export function renderReport(set: ArtifactSet, settings: ReportSettings): RenderedReport {
  const first = set.points[0]!.aggregate;
  const config = runConfig(first);
  const model = String(config.model ?? 'unknown model');
  const charts: Chart[] = [];
  const sections: string[] = [];
  if (set.neuronperf) {
    const tableCharts = neuronperfCharts(set.neuronperf.rows);
    charts.push(...tableCharts);
    sections.push(neuronperfSection(set.neuronperf.rows, tableCharts, settings.costPerHour ?? set.neuronperf.costPerHour));
  }
  if (set.isSweep) {
    const sweepCharts = [sweepChart(set.points), sweepBreakdownChart(set.points)].filter((c): c is Chart => c !== null);
    charts.push(...sweepCharts);
    sections.push(sweepSection(set, sweepCharts, settings));
  }
  for (const point of set.points) {
    const perPoint = pointCharts(point);
    const breakdown = breakdownChart(point);
    charts.push(...perPoint, ...(breakdown ? [breakdown] : []));
    sections.push(pointSection(point, perPoint, settings, set.isSweep ? point.name : describeLoadPoint(point.aggregate.load), breakdown));
  }
  const metaLines = [
    `${escapeHtml(String(config.endpointType ?? ''))} endpoint <code>${escapeHtml(`${config.baseUrl ?? ''}${config.endpointPath ?? ''}`)}</code>`,
    `started ${escapeHtml(first.start_time ?? 'n/a')}; report generated ${escapeHtml(settings.generatedAt.toISOString())}`,
  ];
  if (settings.costPerHour !== null) metaLines.push(`costs assume $${escapeHtml(String(settings.costPerHour))} per hour`);
  if (config.cli_command) metaLines.push(`<code>${escapeHtml(String(config.cli_command))}</code>`);
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Profile report: ${escapeHtml(model)}</title><style>${STYLE}</style></head>
<body>
<header><h1>Profile report: ${escapeHtml(model)}</h1>${metaLines.map((line) => `<p class="meta">${line}</p>`).join('')}</header>
${sections.join('\n')}
</body></html>
`;
  return { html, charts };
}
