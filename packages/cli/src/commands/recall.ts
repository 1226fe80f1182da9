/** `im recall --as <user> <messageUid>`: MR (protocol.md §6 Recall). */
import type { CommandContext } from '../cli.js';
import { UsageError } from '../io.js';
import { clientFor } from '../options.js';

export async function recall({ flags, positionals, env, io }: CommandContext): Promise<void> {
  const [uidText, ...extra] = positionals;
  if (!uidText || extra.length > 0 || !/^\d+$/.test(uidText))
    throw new UsageError('expected one numeric <messageUid>');
  const uid = BigInt(uidText);
  const client = await clientFor(flags, env, { reconnect: false });
  try {
    await client.connect();
    await client.recall(uid);
    io.out(`recalled ${uid}`);
  } finally {
    await client.logout();
  }
}
