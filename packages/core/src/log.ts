import { type DestinationStream, type Logger, pino } from 'pino';

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

/**
 * The one logger factory: JSON lines on stdout (or `destination`, for tests), one child name
 * per component, credentials redacted.
 */
export function createLogger(name: string, level = 'info', destination?: DestinationStream): Logger {
  const opts = { name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(opts, destination) : pino(opts);
}

/** A logger that writes nothing (unit tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
