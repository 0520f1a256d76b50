// Progress of `pooled embed` on stderr: a redrawn bar on a terminal (documents, tokens/s, ETA), plain periodic lines
// otherwise (logs of a Kubernetes pod, CI), and a summary at the end. Rates count this run only, so a resumed job
// does not report the earlier runs' documents as instant.
export type ProgressMode = 'bar' | 'lines' | 'none';

export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressSnapshot {
  /** Documents embedded so far, earlier runs of the job included. */
  readonly numDocuments: number;
  readonly numSkipped: number;
  readonly numTokens: number;
  /** Done in this run (for rates). */
  readonly numRunDocuments: number;
  readonly numRunTokens: number;
  readonly numRunBytes: number;
  /** Input bytes of the shard done (earlier runs included) and in all. */
  readonly numBytesDone: number;
  readonly numBytesTotal: number;
  readonly runSeconds: number;
}

const integerFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatCount(n: number): string {
  return integerFormat.format(n);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m${String(rest).padStart(2, '0')}s`;
  if (m > 0) return `${m}m${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}

function rate(count: number, seconds: number): number {
  return seconds > 0 ? count / seconds : 0;
}

/** Seconds left at this run's byte rate; Infinity until there is a rate to go by. */
export function estimateSecondsLeft(s: ProgressSnapshot): number {
  const bytesPerSecond = rate(s.numRunBytes, s.runSeconds);
  if (bytesPerSecond === 0) return s.numBytesDone >= s.numBytesTotal ? 0 : Infinity;
  return (s.numBytesTotal - s.numBytesDone) / bytesPerSecond;
}

function fraction(s: ProgressSnapshot): number {
  return s.numBytesTotal === 0 ? 1 : Math.min(1, s.numBytesDone / s.numBytesTotal);
}

/** The figures shared by the bar and the plain line. */
export function describeProgress(s: ProgressSnapshot): string {
  const skipped = s.numSkipped > 0 ? `, ${formatCount(s.numSkipped)} skipped` : '';
  return (
    `${formatCount(s.numDocuments)} docs${skipped} | ${formatCount(rate(s.numRunDocuments, s.runSeconds))} docs/s, ` +
    `${formatCount(rate(s.numRunTokens, s.runSeconds))} tokens/s | ETA ${formatDuration(estimateSecondsLeft(s))}`
  );
}

export function formatProgressLine(s: ProgressSnapshot): string {
  return `pooled embed: ${(100 * fraction(s)).toFixed(1)}% | ${describeProgress(s)}`;
}

export function formatProgressBar(s: ProgressSnapshot, columns: number): string {
  const figures = ` ${(100 * fraction(s)).toFixed(1).padStart(5)}% | ${describeProgress(s)}`;
  const width = Math.max(10, Math.min(40, columns - figures.length - 3));
  const filled = Math.round(width * fraction(s));
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${figures}`.slice(0, Math.max(1, columns - 1));
}

/** Picks the mode for `auto`: a bar only when stderr is a terminal. */
export function resolveProgressMode(requested: ProgressMode | 'auto', stream: ProgressStream): ProgressMode {
  if (requested !== 'auto') return requested;
  return stream.isTTY ? 'bar' : 'lines';
}

const BAR_REDRAW_SECONDS = 0.1;
const CLEAR_LINE = '\r\x1b[2K';

export class ProgressReporter {
  private lastDrawnAt: number;
  private barVisible = false;
  private last: ProgressSnapshot | null = null;

  constructor(
    private readonly stream: ProgressStream,
    private readonly mode: ProgressMode,
    /** Seconds between plain lines. */
    private readonly intervalSeconds: number,
  ) {
    // The bar shows up at once; the first plain line waits an interval, when the rates mean something.
    this.lastDrawnAt = mode === 'bar' ? -Infinity : 0;
  }

  /** Called often; draws only when the bar is due (10 per second) or a plain line is (every interval). */
  update(s: ProgressSnapshot): void {
    this.last = s;
    if (this.mode === 'none') return;
    const due = this.mode === 'bar' ? BAR_REDRAW_SECONDS : this.intervalSeconds;
    if (s.runSeconds - this.lastDrawnAt < due) return;
    this.lastDrawnAt = s.runSeconds;
    this.draw(s);
  }

  /** A message (a skipped line, a warning) printed above the bar, never garbled by it. */
  log(message: string): void {
    if (this.barVisible) this.stream.write(CLEAR_LINE);
    this.stream.write(`${message}\n`);
    if (this.barVisible && this.last) this.draw(this.last);
  }

  /** Leaves the final state on screen (bar) or prints it (lines), before the summary. */
  finish(): void {
    if (this.mode === 'none' || !this.last) return;
    this.draw(this.last);
    if (this.mode === 'bar') {
      this.stream.write('\n');
      this.barVisible = false;
    }
  }

  private draw(s: ProgressSnapshot): void {
    if (this.mode === 'bar') {
      this.stream.write(`${CLEAR_LINE}${formatProgressBar(s, this.stream.columns ?? 100)}`);
      this.barVisible = true;
    } else if (this.mode === 'lines') {
      this.stream.write(`${formatProgressLine(s)}\n`);
    }
  }
}
