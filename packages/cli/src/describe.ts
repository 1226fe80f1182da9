/** Any error → one line for stderr and an exit code (1 runtime, 2 usage). */
import {
  ConnectionError,
  ImStatusError,
  RequestTimeoutError,
  TooManyRequestsError,
  UnauthorizedError,
} from '@im/client';
import { CliError } from './io.js';

export function describeError(err: unknown): { line: string; exitCode: number } {
  if (err instanceof CliError) return { line: err.message, exitCode: err.exitCode };
  return { line: describe(err), exitCode: 1 };
}

/** protocol.md §3 statuses as a sentence: "NAME: reason", plus a hint where one helps. */
export function describe(err: unknown): string {
  if (err instanceof ConnectionError) return describeConnection(err);
  if (err instanceof UnauthorizedError) {
    return `UNAUTHORIZED: ${err.reason || 'login refused'} — check --token, or IM_JWT_SECRET / the server's dev-jwt-secret`;
  }
  if (err instanceof TooManyRequestsError) {
    return `TOO_MANY_REQUESTS: ${err.reason || 'rate limit hit'}${err.retryAfterMs ? ` (retry after ${err.retryAfterMs} ms)` : ''}`;
  }
  if (err instanceof ImStatusError) return err.reason ? `${err.statusName}: ${err.reason}` : err.statusName;
  if (err instanceof RequestTimeoutError) return `no answer from the server within ${err.timeoutMs} ms`;
  if (err instanceof Error) return `unexpected error: ${err.message}`;
  return `unexpected error: ${String(err)}`;
}

function describeConnection(err: ConnectionError): string {
  if (err.code === 'REFUSED') {
    return `cannot connect to ${err.endpoint ?? 'the server'} — is the server running? start it with: pnpm start`;
  }
  return err.message;
}
