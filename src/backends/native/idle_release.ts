// Gives the engine's working buffers back after the backend has been idle a while. They are sized by the largest
// batch since the last release (hundreds of MB at a 16k-token budget), so a server that saw one burst would otherwise
// hold that much for good; mapping them again costs a few microseconds of page faults per token, next to ~0.5 ms of
// compute per token, so the release can be eager.

/** Default of --release-working-memory-after: seconds without a forward before the working buffers are released. */
export const DEFAULT_RELEASE_WORKING_MEMORY_AFTER_SECONDS = 10;

export class IdleRelease {
  private timer: NodeJS.Timeout | null = null;
  private numBusy = 0;

  /** `seconds` = 0 never releases. `release` runs at most once per idle period. */
  constructor(
    private readonly seconds: number,
    private readonly release: () => void,
  ) {
    if (!(Number.isFinite(seconds) && seconds >= 0)) throw new RangeError(`releaseWorkingMemoryAfterSeconds must be a number >= 0, got ${seconds}`);
  }

  /** A forward was queued: no release until every queued forward has settled. */
  forwardQueued(): void {
    this.numBusy++;
    this.cancel();
  }

  /** A forward settled; the last one starts the idle clock. */
  forwardSettled(): void {
    this.numBusy--;
    if (this.numBusy > 0 || this.seconds === 0) return;
    this.cancel();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.release();
    }, this.seconds * 1000);
    this.timer.unref(); // an idle server's exit is never held up by this
  }

  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
