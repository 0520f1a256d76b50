// Issues requests on a schedule and collects their records. Two AIPerf modes:
// - concurrency (closed loop): N workers, each sends its next request as soon as the previous one finishes;
// - request rate (open loop): arrivals on a Poisson or constant schedule regardless of how fast the server
//   answers, optionally capped at N in flight (an arrival waits for a free slot, as AIPerf does).
// Stops after `requestCount` requests or once `durationS` has elapsed, whichever comes first; requests in
// flight at the deadline are allowed to finish so their latency is not cut short.
import type { ArrivalPattern, LoadPoint } from './options.js';
import type { RequestRecord } from './records.js';
import type { SeededRandom } from './rng.js';

export type IssueRequest = (sessionNum: number, workerId: string) => Promise<RequestRecord>;

export interface LoadRunSettings {
  readonly point: LoadPoint;
  readonly arrivalPattern: ArrivalPattern;
  readonly requestCount: number | null;
  readonly durationS: number | null;
  readonly rng: SeededRandom;
  /** Aborting stops new requests; those in flight finish and are kept (the run is marked cancelled). */
  readonly stopSignal?: AbortSignal;
  readonly onRecord?: (record: RequestRecord) => void;
}

export interface LoadRunResult {
  readonly records: RequestRecord[];
  readonly wasCancelled: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export async function runLoad(settings: LoadRunSettings, issue: IssueRequest): Promise<LoadRunResult> {
  if (settings.requestCount === null && settings.durationS === null) throw new Error('a load run needs a request count or a duration');
  const startedAt = performance.now();
  const deadline = settings.durationS === null ? Infinity : startedAt + settings.durationS * 1000;
  const records: RequestRecord[] = [];
  let numIssued = 0;
  const mayIssue = (): boolean =>
    !settings.stopSignal?.aborted && (settings.requestCount === null || numIssued < settings.requestCount) && performance.now() < deadline;
  const keep = (record: RequestRecord): void => {
    records.push(record);
    settings.onRecord?.(record);
  };

  if (settings.point.mode === 'concurrency') {
    const worker = async (workerIndex: number): Promise<void> => {
      while (mayIssue()) keep(await issue(numIssued++, `worker_${workerIndex}`));
    };
    await Promise.all(Array.from({ length: settings.point.concurrency }, (_, i) => worker(i)));
  } else {
    const { requestRate, maxConcurrency } = settings.point;
    const inFlight = new Set<Promise<void>>();
    let nextArrival = startedAt;
    while (nextArrival < deadline) {
      await sleep(nextArrival - performance.now());
      if (maxConcurrency !== null) {
        while (inFlight.size >= maxConcurrency) await Promise.race(inFlight);
      }
      if (!mayIssue()) break;
      const sessionNum = numIssued++;
      const pending: Promise<void> = issue(sessionNum, `worker_${sessionNum}`).then((record) => {
        keep(record);
        inFlight.delete(pending);
      });
      inFlight.add(pending);
      const gapS = settings.arrivalPattern === 'poisson' ? settings.rng.exponential(requestRate) : 1 / requestRate;
      nextArrival += gapS * 1000;
    }
    await Promise.all(inFlight);
  }
  records.sort((a, b) => a.sessionNum - b.sessionNum);
  return { records, wasCancelled: settings.stopSignal?.aborted === true };
}
