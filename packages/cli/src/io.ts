/** Where a command writes: stdout lines (results) and stderr lines (status, errors). */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Aborted to stop a long-running command (`im listen`); main.ts wires SIGINT/SIGTERM to it. */
  signal?: AbortSignal;
  /** The lines typed (stdin), for `im chat`; opened only by the command that reads them. */
  lines?: () => AsyncIterable<string>;
}

/** An error whose message is the whole story: printed as one line, exit code `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Wrong arguments: exit code 2 and a usage hint. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}
