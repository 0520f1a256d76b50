// Progress while a load point runs: a single line rewritten in place on a terminal, plain lines at a slower
// pace when the output is a file or a CI log (where carriage returns would pile up into one huge line).
import type { RequestRecord } from './records.js';

export interface ProgressSink {
  write(text: string): void;
}

export interface ProgressSettings {
  readonly mode: 'live' | 'plain' | 'none';
  readonly intervalS: number;
  readonly label: string;
  readonly requestCount: number | null;
  readonly durationS: number | null;
  /** Trailing window of the "current" throughput while running (default 3 s). */
  readonly windowS?: number;
}

/** "Current" throughput is measured over a trailing window, so a slowdown shows within seconds. */
const DEFAULT_WINDOW_S = 3;

export class ProgressReporter {
  private numDone = 0;
  private numErrors = 0;
  private numTokens = 0;
  private readonly startedAt = performance.now();
  /** Successful completions, oldest first from `windowStart`: time and input tokens. */
  private recent: { at: number; tokens: number }[] = [];
  private windowStart = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly windowMs: number;

  constructor(
    private readonly sink: ProgressSink,
    private readonly settings: ProgressSettings,
  ) {
    this.windowMs = (settings.windowS ?? DEFAULT_WINDOW_S) * 1000;
    if (settings.mode !== 'none') {
      this.timer = setInterval(() => this.print(), settings.intervalS * 1000);
      this.timer.unref();
    }
  }

  record(record: RequestRecord): void {
    this.numDone++;
    if (record.error) {
      this.numErrors++;
      return;
    }
    this.numTokens += record.usageInputTokens ?? 0;
    if (this.settings.mode === 'none') return;
    const now = performance.now();
    this.recent.push({ at: now, tokens: record.usageInputTokens ?? 0 });
    this.dropBefore(now - this.windowMs);
  }

  /** Advances the window start; compacts the array only now and then so each record costs O(1) on average. */
  private dropBefore(cutoff: number): void {
    while (this.windowStart < this.recent.length && this.recent[this.windowStart]!.at < cutoff) this.windowStart++;
    if (this.windowStart > 1024 && this.windowStart * 2 > this.recent.length) {
      this.recent = this.recent.slice(this.windowStart);
      this.windowStart = 0;
    }
  }

  /** While running: throughput over the last few seconds. Final: the average over the whole point. */
  line(final = false): string {
    const now = performance.now();
    const elapsedS = (now - this.startedAt) / 1000;
    let rate = 0;
    let tokens = 0;
    if (final) {
      rate = elapsedS > 0 ? (this.numDone - this.numErrors) / elapsedS : 0;
      tokens = elapsedS > 0 ? this.numTokens / elapsedS : 0;
    } else {
      this.dropBefore(now - this.windowMs);
      const windowS = Math.min(this.windowMs, now - this.startedAt) / 1000;
      let windowTokens = 0;
      for (let i = this.windowStart; i < this.recent.length; i++) windowTokens += this.recent[i]!.tokens;
      rate = windowS > 0 ? (this.recent.length - this.windowStart) / windowS : 0;
      tokens = windowS > 0 ? windowTokens / windowS : 0;
    }
    const target = this.settings.requestCount !== null ? `/${this.settings.requestCount}` : '';
    const clock = this.settings.durationS !== null ? ` ${elapsedS.toFixed(1)}/${this.settings.durationS}s` : ` ${elapsedS.toFixed(1)}s`;
    return `[${this.settings.label}] ${this.numDone}${target} requests, ${this.numErrors} errors, ${rate.toFixed(1)} req/s, ${Math.round(tokens)} tokens/s,${clock}`;
  }

  private print(): void {
    if (this.settings.mode === 'live') this.sink.write(`\r\x1b[2K${this.line()}`);
    else if (this.settings.mode === 'plain') this.sink.write(`${this.line()}\n`);
  }

  finish(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.settings.mode === 'live') this.sink.write(`\r\x1b[2K${this.line(true)}\n`);
    else if (this.settings.mode === 'plain') this.sink.write(`${this.line(true)}\n`);
  }
}
