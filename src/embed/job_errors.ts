// How a job stops early, as typed errors the CLI turns into exit codes and messages.

/** `--on-error fail` met a bad line; everything before it is written and checkpointed. */
export class BadInputLineError extends Error {
  constructor(
    readonly inputPath: string,
    readonly lineNumber: number,
    readonly reason: string,
  ) {
    super(`${inputPath}: line ${lineNumber}: ${reason}`);
    this.name = 'BadInputLineError';
  }
}

export class JobInterruptedError extends Error {
  constructor(readonly numDocuments: number) {
    super(`interrupted after ${numDocuments} documents; progress is saved, run the same command to continue`);
    this.name = 'JobInterruptedError';
  }
}
