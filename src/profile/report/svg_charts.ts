// Charts as inline SVG strings: no plotting library, no script, so the report opens offline in any browser
// and Chromium can rasterize it for the PNGs. Three shapes cover every chart in the report: a histogram with
// marker lines (latency distribution), an x/y chart of lines and dots (over time, sweep curves), and stacked
// bars over categories (where the latency went).
// Each data mark carries a <title>, which browsers show as a tooltip without any JavaScript.

export const PALETTE = {
  blue: '#1f77b4',
  orange: '#ff7f0e',
  green: '#2ca02c',
  red: '#d62728',
  purple: '#9467bd',
  grey: '#7f7f7f',
} as const;

export interface Chart {
  readonly id: string;
  readonly title: string;
  readonly width: number;
  readonly height: number;
  readonly svg: string;
}

export const CHART_WIDTH = 720;
export const CHART_HEIGHT = 360;
const MARGIN = { top: 44, right: 24, bottom: 52, left: 72 };

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round tick values covering [min, max] with about `target` steps of 1, 2 or 5 x 10^k. */
export function niceTicks(min: number, max: number, target = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max === min) {
    const pad = max === 0 ? 1 : Math.abs(max) * 0.1;
    min -= pad;
    max += pad;
  }
  const rawStep = (max - min) / target;
  const magnitude = 10 ** Math.floor(Math.log10(rawStep));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rawStep)!;
  // The epsilon keeps 0.3 / 0.1 = 2.9999999999999996 from starting the axis a whole step early.
  const first = Math.floor(min / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

export function formatTick(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (abs >= 1e4) return `${Number((value / 1e3).toPrecision(3))}k`;
  return String(Number(value.toPrecision(4)));
}

interface Frame {
  readonly x0: number;
  readonly x1: number;
  readonly y0: number;
  readonly y1: number;
  readonly xTicks: number[];
  readonly yTicks: number[];
  readonly sx: (v: number) => number;
  readonly sy: (v: number) => number;
}

function frame(xTicks: number[], yTicks: number[]): Frame {
  const x0 = MARGIN.left;
  const x1 = CHART_WIDTH - MARGIN.right;
  const y0 = CHART_HEIGHT - MARGIN.bottom;
  const y1 = MARGIN.top;
  const xMin = xTicks[0]!;
  const xMax = xTicks[xTicks.length - 1]!;
  const yMin = yTicks[0]!;
  const yMax = yTicks[yTicks.length - 1]!;
  return {
    x0,
    x1,
    y0,
    y1,
    xTicks,
    yTicks,
    sx: (v) => x0 + ((v - xMin) / (xMax - xMin || 1)) * (x1 - x0),
    sy: (v) => y0 - ((v - yMin) / (yMax - yMin || 1)) * (y0 - y1),
  };
}

/** Axes with numeric ticks; with `xCategories`, one label under the centre of each category slot instead. */
function axes(f: Frame, xLabel: string, yLabel: string, xCategories?: readonly string[]): string {
  const parts: string[] = [];
  for (const t of f.yTicks) {
    const y = f.sy(t).toFixed(1);
    parts.push(`<line x1="${f.x0}" x2="${f.x1}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${f.x0 - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="12" fill="#444">${formatTick(t)}</text>`);
  }
  const categoryTicks = (xCategories ?? []).map((name, i) => ({ x: f.sx(i + 0.5).toFixed(1), text: escapeXml(name) }));
  for (const { x, text } of categoryTicks) parts.push(`<text x="${x}" y="${f.y0 + 18}" text-anchor="middle" font-size="12" fill="#444">${text}</text>`);
  for (const t of xCategories ? [] : f.xTicks) {
    const x = f.sx(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${f.y0}" y2="${f.y0 + 5}" stroke="#888"/>`);
    parts.push(`<text x="${x}" y="${f.y0 + 18}" text-anchor="middle" font-size="12" fill="#444">${formatTick(t)}</text>`);
  }
  parts.push(`<line x1="${f.x0}" x2="${f.x1}" y1="${f.y0}" y2="${f.y0}" stroke="#888"/>`);
  parts.push(`<line x1="${f.x0}" x2="${f.x0}" y1="${f.y0}" y2="${f.y1}" stroke="#888"/>`);
  parts.push(`<text x="${(f.x0 + f.x1) / 2}" y="${CHART_HEIGHT - 10}" text-anchor="middle" font-size="13" fill="#222">${escapeXml(xLabel)}</text>`);
  const yMid = (f.y0 + f.y1) / 2;
  parts.push(`<text x="16" y="${yMid}" text-anchor="middle" font-size="13" fill="#222" transform="rotate(-90 16 ${yMid})">${escapeXml(yLabel)}</text>`);
  return parts.join('');
}

function wrap(id: string, title: string, body: string): Chart {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" id="${escapeXml(id)}" class="chart" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" ` +
    `viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" font-family="Helvetica, Arial, sans-serif" role="img" aria-label="${escapeXml(title)}">` +
    `<rect width="${CHART_WIDTH}" height="${CHART_HEIGHT}" fill="#ffffff"/>` +
    `<text x="${CHART_WIDTH / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold" fill="#111">${escapeXml(title)}</text>` +
    `${body}</svg>`;
  return { id, title, width: CHART_WIDTH, height: CHART_HEIGHT, svg };
}

function noData(id: string, title: string, reason: string): Chart {
  return wrap(id, title, `<text x="${CHART_WIDTH / 2}" y="${CHART_HEIGHT / 2}" text-anchor="middle" font-size="14" fill="#777">${escapeXml(reason)}</text>`);
}

function legend(entries: readonly { name: string; colour: string }[]): string {
  return entries
    .map((entry, i) => {
      const x = MARGIN.left + 8 + i * 150;
      return (
        `<rect x="${x}" y="${MARGIN.top - 14}" width="12" height="12" fill="${entry.colour}"/>` +
        `<text x="${x + 17}" y="${MARGIN.top - 4}" font-size="12" fill="#333">${escapeXml(entry.name)}</text>`
      );
    })
    .join('');
}

export interface HistogramMarker {
  readonly label: string;
  readonly value: number;
  readonly colour: string;
}

export interface HistogramSpec {
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly values: readonly number[];
  readonly numBins?: number;
  readonly markers?: readonly HistogramMarker[];
}

/** [min, max] by a loop: spreading a long array into Math.min exceeds the argument limit. */
function extent(values: readonly number[]): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

export function histogramChart(spec: HistogramSpec): Chart {
  if (spec.values.length === 0) return noData(spec.id, spec.title, 'no successful requests');
  const [min, max] = extent(spec.values);
  const xTicks = niceTicks(min, max);
  const lo = xTicks[0]!;
  const hi = xTicks[xTicks.length - 1]!;
  // Freedman-Diaconis would be more principled; sqrt(n) capped at 40 reads well for 10..100k requests.
  const numBins = spec.numBins ?? Math.max(5, Math.min(40, Math.ceil(Math.sqrt(spec.values.length))));
  const binWidth = (hi - lo) / numBins;
  const counts = new Array<number>(numBins).fill(0);
  for (const v of spec.values) counts[Math.min(numBins - 1, Math.floor((v - lo) / binWidth))]!++;
  const f = frame(xTicks, niceTicks(0, Math.max(...counts)));
  const bars = counts
    .map((count, i) => {
      if (count === 0) return '';
      const left = f.sx(lo + i * binWidth);
      const right = f.sx(lo + (i + 1) * binWidth);
      const top = f.sy(count);
      const range = `${formatTick(lo + i * binWidth)}–${formatTick(lo + (i + 1) * binWidth)}`;
      return `<rect class="bar" x="${(left + 0.5).toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(1, right - left - 1).toFixed(1)}" height="${(f.y0 - top).toFixed(1)}" fill="${PALETTE.blue}"><title>${escapeXml(`${range} ${spec.xLabel}: ${count} requests`)}</title></rect>`;
    })
    .join('');
  // Marker values go in the legend row, not beside their lines: p90 and p99 are often a pixel apart.
  const markers = (spec.markers ?? [])
    .map((marker) => {
      const x = f.sx(marker.value).toFixed(1);
      return `<line class="marker" x1="${x}" x2="${x}" y1="${f.y0}" y2="${f.y1}" stroke="${marker.colour}" stroke-width="2" stroke-dasharray="6 3"><title>${escapeXml(`${marker.label} ${formatTick(marker.value)}`)}</title></line>`;
    })
    .join('');
  const markerLegend = legend((spec.markers ?? []).map((m) => ({ name: `${m.label} = ${formatTick(m.value)}`, colour: m.colour })));
  return wrap(spec.id, spec.title, axes(f, spec.xLabel, 'requests') + bars + markers + markerLegend);
}

export interface XyPoint {
  readonly x: number;
  readonly y: number;
  /** Shown next to the dot (e.g. "c=16" on a sweep curve). */
  readonly label?: string;
}

export interface XySeries {
  readonly name: string;
  readonly colour: string;
  readonly points: readonly XyPoint[];
  readonly style: 'line' | 'dots' | 'line+dots';
}

export interface XySpec {
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly XySeries[];
  /** Start the y axis at zero (throughputs), rather than at the data's minimum. */
  readonly yFromZero?: boolean;
  readonly xFromZero?: boolean;
}

export function xyChart(spec: XySpec): Chart {
  const all = spec.series.flatMap((s) => s.points);
  if (all.length === 0) return noData(spec.id, spec.title, 'no data');
  const [xMin, xMax] = extent(all.map((p) => p.x));
  const [yMin, yMax] = extent(all.map((p) => p.y));
  const f = frame(niceTicks(spec.xFromZero ? Math.min(0, xMin) : xMin, xMax), niceTicks(spec.yFromZero ? Math.min(0, yMin) : yMin, yMax));
  const marks = spec.series
    .map((series) => {
      const parts: string[] = [];
      if (series.style !== 'dots' && series.points.length > 1) {
        const path = series.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${f.sx(p.x).toFixed(1)},${f.sy(p.y).toFixed(1)}`).join('');
        parts.push(`<path class="series-line" d="${path}" fill="none" stroke="${series.colour}" stroke-width="2"/>`);
      }
      if (series.style !== 'line' || series.points.length === 1) {
        const radius = series.style === 'dots' ? 2.5 : 4;
        for (const p of series.points) {
          parts.push(
            `<circle class="dot" cx="${f.sx(p.x).toFixed(1)}" cy="${f.sy(p.y).toFixed(1)}" r="${radius}" fill="${series.colour}" fill-opacity="${series.style === 'dots' ? 0.55 : 1}">` +
              `<title>${escapeXml(`${series.name}: ${spec.xLabel} ${formatTick(p.x)}, ${spec.yLabel} ${formatTick(p.y)}${p.label ? ` (${p.label})` : ''}`)}</title></circle>`,
          );
          if (p.label)
            parts.push(
              `<text x="${(f.sx(p.x) + 6).toFixed(1)}" y="${(f.sy(p.y) - 6).toFixed(1)}" font-size="11" fill="${series.colour}">${escapeXml(p.label)}</text>`,
            );
        }
      }
      return parts.join('');
    })
    .join('');
  return wrap(spec.id, spec.title, axes(f, spec.xLabel, spec.yLabel) + marks + legend(spec.series.map((s) => ({ name: s.name, colour: s.colour }))));
}

export interface StackedBar {
  readonly label: string;
  /** One value per segment of the spec, in the spec's order, stacked from the axis up. */
  readonly values: readonly number[];
}

export interface StackedBarSpec {
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly segments: readonly { readonly name: string; readonly colour: string }[];
  readonly bars: readonly StackedBar[];
}

export function stackedBarChart(spec: StackedBarSpec): Chart {
  if (spec.bars.length === 0) return noData(spec.id, spec.title, 'no data');
  const totals = spec.bars.map((bar) => bar.values.reduce((a, b) => a + b, 0));
  const f = frame([0, spec.bars.length], niceTicks(0, Math.max(...totals)));
  const slot = (f.x1 - f.x0) / spec.bars.length;
  const barWidth = Math.min(90, slot * 0.6);
  const marks = spec.bars
    .map((bar, i) => {
      const left = f.sx(i + 0.5) - barWidth / 2;
      let base = 0;
      return bar.values
        .map((value, k) => {
          const top = f.sy(base + value);
          const bottom = f.sy(base);
          base += value;
          if (value <= 0) return '';
          const segment = spec.segments[k]!;
          return (
            `<rect class="segment" x="${left.toFixed(1)}" y="${top.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(bottom - top).toFixed(1)}" fill="${segment.colour}">` +
            `<title>${escapeXml(`${bar.label}: ${segment.name} ${formatTick(value)} ${spec.yLabel}`)}</title></rect>`
          );
        })
        .join('');
    })
    .join('');
  return wrap(
    spec.id,
    spec.title,
    axes(
      f,
      spec.xLabel,
      spec.yLabel,
      spec.bars.map((b) => b.label),
    ) +
      marks +
      legend(spec.segments),
  );
}
