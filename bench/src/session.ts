/**
 * Opening bench users: TCP + LOGIN on a bare `Connection` (no ImClient: no inbox tracking, no
 * per-message promises), spread round-robin over the edges, a bounded number at a time.
 */
import { Connection, TooManyRequestsError, UnavailableError } from '@im/client';
import { signDevToken } from '@im/core';
import { Command, codec, type LoginResponse } from '@im/protocol';
import type { Endpoint } from './args.js';

/** Token lifetime: longer than any run. */
const TOKEN_TTL_S = 24 * 3600;
const DEVICE_ID = 'bench';
/** protocol.md §5 LoginRequest.platform: 5 = server/bot. */
const PLATFORM_BOT = 5;

export interface OpenedUser {
  index: number;
  userId: string;
  conn: Connection;
  login: LoginResponse;
}

/** User ids unique per run, so a rerun against the same server never collides with old inboxes or routes. */
export function runTag(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
}

export function userIdOf(tag: string, index: number): string {
  return `b${tag}-${index}`;
}

export async function openUser(
  endpoint: Endpoint,
  userId: string,
  secret: string,
  index: number,
): Promise<OpenedUser> {
  const token = await signDevToken(secret, userId, TOKEN_TTL_S);
  const conn = await Connection.open(
    { host: endpoint.host, port: endpoint.port, connectTimeoutMs: 30_000 },
    { requestTimeoutMs: 30_000 },
  );
  try {
    const res = await conn.request(
      Command.LOGIN,
      codec.LoginRequest.encode({
        userId,
        token,
        deviceId: DEVICE_ID,
        platform: PLATFORM_BOT,
        clientVersion: 'im-bench',
      }),
    );
    return { index, userId, conn, login: codec.LoginResponse.decode(res.body) };
  } catch (err) {
    conn.destroy();
    throw err;
  }
}

export interface OpenManyOptions {
  targets: readonly Endpoint[];
  secret: string;
  tag: string;
  /** User indexes to open (user i goes to targets[i % targets.length]). */
  from: number;
  count: number;
  concurrency: number;
  /** Called after each success, with the number opened so far. */
  onProgress?: (opened: number) => void;
}

/** LOGIN attempts per user when the server answers with a retryable status. */
const LOGIN_ATTEMPTS = 5;
const RETRY_BASE_MS = 250;

/**
 * protocol.md §3: UNAVAILABLE and TOO_MANY_REQUESTS are retryable. A login burst of tens of
 * thousands on a busy machine meets a few (a backend call past its deadline); like any client,
 * the bench tries again after a growing pause instead of abandoning the whole run.
 */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  attempts = LOGIN_ATTEMPTS,
  baseMs = RETRY_BASE_MS,
): Promise<T> {
  for (let k = 1; ; k++) {
    try {
      return await attempt();
    } catch (err) {
      const retryable = err instanceof UnavailableError || err instanceof TooManyRequestsError;
      if (!retryable || k >= attempts) throw err;
      await new Promise((ok) => setTimeout(ok, baseMs * k));
    }
  }
}

/** Opens `count` users; the first failure stops the rest and is thrown (opened ones are closed). */
export async function openMany(o: OpenManyOptions): Promise<OpenedUser[]> {
  const users: OpenedUser[] = new Array(o.count);
  let next = 0;
  let opened = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < o.count) {
      const i = next++;
      const index = o.from + i;
      try {
        users[i] = await withRetries(() =>
          openUser(o.targets[index % o.targets.length] as Endpoint, userIdOf(o.tag, index), o.secret, index),
        );
        o.onProgress?.(++opened);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, o.count) }, worker));
  if (failure !== undefined) {
    for (const u of users) u?.conn.destroy();
    throw failure;
  }
  return users;
}
