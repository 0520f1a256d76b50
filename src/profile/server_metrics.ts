// The server's own view of the run: its Prometheus /metrics scraped before and after each load point, and
// the difference of every series that changed (requests served, tokens, queue rejections...). Scraping is
// best effort: many servers have no /metrics, and a benchmark must not fail for that.

export interface MetricsScrape {
  readonly url: string;
  readonly ok: boolean;
  readonly status: number | null;
  readonly text: string;
  readonly error: string | null;
}

export async function scrapeMetrics(url: string, headers: Readonly<Record<string, string>>, timeoutMs = 5000): Promise<MetricsScrape> {
  try {
    const response = await fetch(url, { headers: { ...headers }, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    return { url, ok: response.ok, status: response.status, text, error: response.ok ? null : `HTTP ${response.status}` };
  } catch (error) {
    const cause = (error as { cause?: Error }).cause;
    return { url, ok: false, status: null, text: '', error: cause?.message ?? (error as Error).message };
  }
}

/** Sample lines of the Prometheus text format: `name{labels} value [timestamp]` -> series -> value. */
export function parsePrometheusText(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?)\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[2] === '+Inf' ? Infinity : match[2] === '-Inf' ? -Infinity : match[2]);
    if (!Number.isNaN(value)) samples.set(match[1]!, value);
  }
  return samples;
}

/**
 * after - before for every series whose value changed. A series first seen after the run counts from 0:
 * labelled counters (requests by route and status) only appear once something incremented them.
 */
export function metricsDelta(before: string, after: string): Record<string, number> {
  const beforeSamples = parsePrometheusText(before);
  const delta: Record<string, number> = {};
  for (const [series, value] of parsePrometheusText(after)) {
    const change = value - (beforeSamples.get(series) ?? 0);
    if (change !== 0 && Number.isFinite(change)) delta[series] = change;
  }
  return delta;
}
