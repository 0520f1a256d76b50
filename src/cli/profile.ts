// `pooled profile`: AIPerf-style load generation against any OpenAI/Cohere-compatible embedding endpoint.
// Exit codes: 0 the run finished and at least one request succeeded at every load point; 1 the run could not
// start or a load point had no successful request; 2 bad command line.
import { UsageError } from '../errors.js';
import { parseProfileArgs, PROFILE_USAGE } from '../profile/options.js';
import { runProfile } from '../profile/run_profile.js';

/** Where the command prints; tests pass their own sinks instead of patching process.stdout. */
export interface CommandStreams {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
}

export async function runProfileCommand(argv: string[], streams: CommandStreams = process): Promise<number> {
  const { stdout, stderr } = streams;
  let options;
  try {
    options = parseProfileArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      stderr.write(`pooled profile: ${error.message}\n\n${PROFILE_USAGE}`);
      return 2;
    }
    throw error;
  }
  if (options === null) {
    stdout.write(PROFILE_USAGE);
    return 0;
  }

  // First Ctrl-C: stop issuing, let requests in flight finish, write what was measured. Second: quit now.
  const stop = new AbortController();
  const onSigint = (): void => {
    if (stop.signal.aborted) process.exit(130);
    stderr.write('\nstopping: waiting for requests in flight (Ctrl-C again to quit now)\n');
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await runProfile(options, {
      out: stdout,
      err: stderr,
      env: process.env,
      stopSignal: stop.signal,
    });
    const emptyPoints = result.points.filter((p) => p.summary.request_count.avg === 0);
    if (emptyPoints.length > 0) {
      stderr.write(`pooled profile: no request succeeded at ${emptyPoints.length} load point(s); see the error table above\n`);
      return 1;
    }
    return 0;
  } catch (error) {
    stderr.write(`pooled profile: ${(error as Error).message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
