/** Flags shared by the commands that log in, and how they become ImClient options. */
import { readFile } from 'node:fs/promises';
import { ImClient, type TlsSettings } from '@im/client';
import { CliError, UsageError } from './io.js';
import { findServerKey } from './server-key.js';
import { devSecret, signToken } from './token.js';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 7100;
/** The edge's TLS port by default (config edge.tlsPort). */
export const DEFAULT_TLS_PORT = 7143;
/** Tokens the CLI signs for itself only need to outlive one command. */
const SESSION_TOKEN_TTL_SECONDS = 3600;
/** protocol.md §5 LoginRequest.platform: 5 = server/bot. */
const PLATFORM_BOT = 5;

export const commonOptions = {
  as: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  token: { type: 'string' },
  device: { type: 'string' },
  // protocol.md §2 Transport security: TLS, trusting --ca for a self-signed or private CA.
  tls: { type: 'boolean' },
  ca: { type: 'string' },
  // protocol.md §2 RSA (2) login + AES (1) frames, for servers without TLS.
  rsa: { type: 'boolean' },
  'server-key': { type: 'string' },
} as const;

export interface Flags {
  as?: string;
  host?: string;
  port?: string;
  token?: string;
  device?: string;
  json?: boolean;
  since?: string;
  with?: string;
  group?: boolean;
  room?: boolean;
  limit?: string;
  ttl?: string;
  tls?: boolean;
  ca?: string;
  rsa?: boolean;
  'server-key'?: string;
  /** History paging: messages older than this uid. */
  before?: string;
  /** Chatrooms `im listen` joins. */
  join?: string[];
  /** The admin API (admin.ts). */
  admin?: string;
  'admin-secret'?: string;
}

/** Flags of the commands that call the admin API (admin.ts). */
export const adminOptions = {
  admin: { type: 'string' },
  'admin-secret': { type: 'string' },
  json: { type: 'boolean' },
} as const;

type Env = Record<string, string | undefined>;

export interface Target {
  host: string;
  port: number;
  userId: string;
  deviceId: string;
}

export function target(flags: Flags, env: Env): Target {
  if (!flags.as) throw new UsageError('--as <user> is required');
  const tls = flags.tls === true || flags.ca !== undefined;
  const portText =
    flags.port ??
    (tls ? (env.IM_EDGE_TLS_PORT ?? String(DEFAULT_TLS_PORT)) : (env.IM_EDGE_PORT ?? String(DEFAULT_PORT)));
  const port = Number(portText);
  if (!Number.isInteger(port) || port <= 0 || port > 65535)
    throw new UsageError(`--port must be 1..65535, got "${portText}"`);
  return {
    host: flags.host ?? DEFAULT_HOST,
    port,
    userId: flags.as,
    // A device per process: two CLI commands of one user never kick each other (protocol.md §6 Session).
    deviceId: flags.device ?? `cli-${process.pid}`,
  };
}

/** An ImClient for the flags; the token is --token or signed with the development secret. */
export async function clientFor(
  flags: Flags,
  env: Env,
  opts: { reconnect: boolean; lastSeq?: number },
): Promise<ImClient> {
  const t = target(flags, env);
  const token = flags.token ?? (await signToken(await devSecret(env), t.userId, SESSION_TOKEN_TTL_SECONDS));
  const rsa = flags.rsa === true || flags['server-key'] !== undefined;
  return new ImClient({
    ...t,
    token,
    tls: await tlsSettings(flags),
    ...(rsa
      ? {
          encryption: 'rsa' as const,
          serverPublicKey: (await findServerKey(flags['server-key'], env)).publicKey,
        }
      : {}),
    platform: PLATFORM_BOT,
    clientVersion: 'im-cli 0.1.0',
    reconnect: opts.reconnect,
    lastSeq: opts.lastSeq,
  });
}

/** --tls / --ca FILE → the SDK's TLS settings (system CAs, or only the given CA). */
async function tlsSettings(flags: Flags): Promise<TlsSettings | undefined> {
  if (flags.ca === undefined) return flags.tls ? {} : undefined;
  try {
    return { ca: await readFile(flags.ca, 'utf8') };
  } catch (err) {
    throw new CliError(
      `cannot read --ca ${flags.ca}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/** A non-negative integer flag. */
export function intFlag(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new UsageError(`--${name} must be a non-negative integer, got "${text}"`);
  return n;
}
