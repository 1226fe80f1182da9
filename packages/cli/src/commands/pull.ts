/**
 * `im pull --as <user> [--since SEQ]`: the inbox after SEQ (ascending), or with `--with <peer>`
 * the history of one conversation (protocol.md §6 Conversation history), printed oldest first.
 */
import { group, single } from '@im/client';
import type { CommandContext } from '../cli.js';
import { formatMessage, messageJson } from '../format.js';
import { UsageError } from '../io.js';
import { clientFor, intFlag } from '../options.js';

export async function pull({ flags, positionals, env, io }: CommandContext): Promise<void> {
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (flags.with !== undefined && flags.since !== undefined)
    throw new UsageError('--since applies to the inbox, not to --with');
  if (flags.group && flags.with === undefined) throw new UsageError('--group needs --with <groupId>');
  if (flags.before !== undefined && flags.with === undefined) throw new UsageError('--before needs --with');
  const before = flags.before === undefined ? undefined : uidFlag(flags.before);
  const since = intFlag('since', flags.since) ?? 0;
  const limit = intFlag('limit', flags.limit);
  const client = await clientFor(flags, env, { reconnect: false });
  try {
    await client.connect();
    const page =
      flags.with === undefined
        ? await client.pull({ since, limit })
        : await client.history(flags.group ? group(flags.with) : single(flags.with), {
            limit,
            beforeUid: before,
          });
    // History pages come newest first; a terminal reads better oldest first.
    const messages = flags.with === undefined ? page.messages : [...page.messages].reverse();
    for (const m of messages) io.out(flags.json ? messageJson(m) : formatMessage(m));
    const more = page.hasMore
      ? flags.with === undefined
        ? `; more after seq ${messages.at(-1)?.seq} (use --since)`
        : `; older messages exist (use --before ${messages[0]?.messageUid})`
      : '';
    io.err(`${messages.length} message(s), inbox head ${page.head}${more}`);
  } finally {
    await client.logout();
  }
}

/** A message uid (uint64, decimal). */
function uidFlag(text: string): bigint {
  if (!/^\d{1,20}$/.test(text) || BigInt(text) >= 2n ** 64n) {
    throw new UsageError(`--before must be a message uid (a decimal uint64), got "${text}"`);
  }
  return BigInt(text);
}
