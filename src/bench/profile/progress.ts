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
}

export class ProgressReporter {
  private numDone = 0;
  private numErrors = 0;
  private numTokens = 0;
  private readonly startedAt = performance.now();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly sink: ProgressSink,
    private readonly settings: ProgressSettings,
  ) {
    if (settings.mode !== 'none') {
      this.timer = setInterval(() => this.print(), settings.intervalS * 1000);
      this.timer.unref();
    }
  }

  record(record: RequestRecord): void {
    this.numDone++;
    if (record.error) this.numErrors++;
    else this.numTokens += record.usageInputTokens ?? 0;
  }

  line(): string {
    const elapsedS = (performance.now() - this.startedAt) / 1000;
    const target = this.settings.requestCount !== null ? `/${this.settings.requestCount}` : '';
    const clock = this.settings.durationS !== null ? ` ${elapsedS.toFixed(1)}/${this.settings.durationS}s` : ` ${elapsedS.toFixed(1)}s`;
    const rate = elapsedS > 0 ? (this.numDone - this.numErrors) / elapsedS : 0;
    const tokens = elapsedS > 0 ? this.numTokens / elapsedS : 0;
    return `[${this.settings.label}] ${this.numDone}${target} requests, ${this.numErrors} errors, ${rate.toFixed(1)} req/s, ${Math.round(tokens)} tokens/s,${clock}`;
  }

  private print(): void {
    if (this.settings.mode === 'live') this.sink.write(`\r\x1b[2K${this.line()}`);
    else if (this.settings.mode === 'plain') this.sink.write(`${this.line()}\n`);
  }

  finish(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.settings.mode === 'live') this.sink.write(`\r\x1b[2K${this.line()}\n`);
    else if (this.settings.mode === 'plain') this.sink.write(`${this.line()}\n`);
  }
}
