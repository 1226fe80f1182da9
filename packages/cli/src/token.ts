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

export async function devSecret(env: Env): Promise<string> {
  if (env.IM_JWT_SECRET) return env.IM_JWT_SECRET;
  const path = resolve(join(env.IM_DATA_DIR || '.data', DEV_SECRET_FILE));
  try {
    const secret = (await readFile(path, 'utf8')).trim();
    if (secret) return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  throw new CliError(
    `no development secret: set IM_JWT_SECRET, or start the server once (pnpm start) so it writes ${path} (or pass --token)`,
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
