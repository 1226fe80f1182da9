import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogFormat } from './config.js';
import { prettyDestination } from './log.pretty.js';

export type { Logger };

/**
 * Credentials that must never reach a log line (protocol.md §5 LoginRequest.token, the admin
 * bearer secret, connection strings' passwords): top-level and up to two levels deep.
 */
const SENSITIVE = [
  'token',
  'secret',
  'password',
  'authorization',
  'jwtSecret',
  'databaseUrl',
  // docs/security.md: the RSA private key and session secrets (protocol.md §2) never reach a log line.
  'privateKey',
  'privateKeyPem',
  'sessionSecret',
];
export const REDACT_PATHS: string[] = [
  ...SENSITIVE,
  ...SENSITIVE.map((k) => `*.${k}`),
  ...SENSITIVE.map((k) => `*.*.${k}`),
  'req.headers.authorization',
  'headers.authorization',
  'headers.cookie',
];

/** The config fields a logger is made from (config.ts logLevel, logFormat). */
export interface LogSettings {
  logLevel: string;
  logFormat?: LogFormat;
}

/** A stream that may be a terminal. */
type Output = DestinationStream & { isTTY?: boolean };

/** `auto` is pretty exactly when the output is a terminal: people read it, machines parse JSON. */
export function isPretty(format: LogFormat, out: { isTTY?: boolean }): boolean {
  return format === 'pretty' || (format === 'auto' && out.isTTY === true);
}

/**
 * The one logger factory: one child name per component, credentials redacted; JSON lines, or
 * readable lines (log.pretty.ts) when `settings.logFormat` says so. Output: stdout, or
 * `destination` (tests). A bare level string means JSON, as before.
 */
export function createLogger(
  name: string,
  settings: string | LogSettings = 'info',
  destination?: Output,
): Logger {
  const { logLevel, logFormat = 'json' } =
    typeof settings === 'string' ? { logLevel: settings, logFormat: 'json' as const } : settings;
  const opts = { name, level: logLevel, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  const out: Output = destination ?? process.stdout;
  if (isPretty(logFormat, out)) return pino(opts, prettyDestination(out, out.isTTY === true));
  return destination ? pino(opts, destination) : pino(opts);
}

/** A logger that writes nothing (unit tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
