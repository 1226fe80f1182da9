/**
 * Development tokens: HS256 JWTs (protocol.md §5 LoginRequest.token) signed with the secret the
 * embedded server uses — IM_JWT_SECRET, else `<IM_DATA_DIR or .data>/dev-jwt-secret`, the file the
 * embedded server writes on its first start.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SignJWT } from 'jose';
import { CliError, UsageError } from './io.js';

export const DEV_SECRET_FILE = 'dev-jwt-secret';
export const DEFAULT_TOKEN_TTL_SECONDS = 24 * 3600;

type Env = Record<string, string | undefined>;

/**
 * A secret from the environment, else from the file the embedded server writes into its data
 * dir; `hint` completes the error that says how to get one.
 */
export async function secretFromEnvOrDevFile(
  value: string | undefined,
  env: Env,
  file: string,
  what: string,
  hint: string,
): Promise<string> {
  if (value) return value;
  const path = resolve(join(env.IM_DATA_DIR || '.data', file));
  try {
    const secret = (await readFile(path, 'utf8')).trim();
    if (secret) return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  throw new CliError(`no ${what}: ${hint}, or start the server once (pnpm start) so it writes ${path}`);
}

export function devSecret(env: Env): Promise<string> {
  return secretFromEnvOrDevFile(
    env.IM_JWT_SECRET,
    env,
    DEV_SECRET_FILE,
    'development secret',
    'set IM_JWT_SECRET (or pass --token)',
  );
}

export async function signToken(secret: string, userId: string, ttlSeconds: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "90", "90s", "15m", "24h", "7d" → seconds. */
export function parseTtl(text: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!m) throw new UsageError(`--ttl must look like 3600, 90s, 15m, 24h or 7d; got "${text}"`);
  const seconds = Number(m[1]) * (UNIT_SECONDS[m[2] || 's'] as number);
  if (seconds <= 0) throw new UsageError('--ttl must be positive');
  return seconds;
}
