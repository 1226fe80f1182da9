/** `im token <user> [--ttl 24h]`: prints a development token (HS256, dev secret). */
import type { CommandContext } from '../cli.js';
import { UsageError } from '../io.js';
import { DEFAULT_TOKEN_TTL_SECONDS, devSecret, parseTtl, signToken } from '../token.js';

export async function token({ flags, positionals, env, io }: CommandContext): Promise<void> {
  const [user, ...extra] = positionals;
  if (!user || extra.length > 0) throw new UsageError('expected exactly one <user>');
  const ttl = flags.ttl === undefined ? DEFAULT_TOKEN_TTL_SECONDS : parseTtl(flags.ttl);
  io.out(await signToken(await devSecret(env), user, ttl));
}
