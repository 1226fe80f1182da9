/**
 * `im listen --as <user>`: logs in and prints every incoming message until Ctrl-C. Reconnects and
 * resyncs on its own (the SDK does); a kick ends it with exit code 1.
 */
import type { CommandContext } from '../cli.js';
import { describe } from '../describe.js';
import { formatMessage, messageJson } from '../format.js';
import { UsageError } from '../io.js';
import { clientFor, intFlag, target } from '../options.js';
import { untilSessionEnd } from '../session-end.js';

export async function listen({ flags, positionals, env, io }: CommandContext): Promise<void> {
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const where = target(flags, env);
  const client = await clientFor(flags, env, { reconnect: true, lastSeq: intFlag('since', flags.since) });
  client.on('message', (m) => io.out(flags.json ? messageJson(m) : formatMessage(m)));
  client.on('reconnect', (login) => io.err(`reconnected (inbox head ${login.head})`));
  client.on('error', (err) => {
    if (client.state !== 'closed') io.err(describe(err));
  });
  // protocol.md §6 Chatrooms: membership is per connection, so a reconnect joins again.
  const rooms = flags.join ?? [];
  const joinRooms = async () => {
    for (const r of rooms) await client.joinChatroom(r);
  };
  client.on('reconnect', () => {
    joinRooms().catch((err: unknown) => io.err(`rejoining chatrooms failed: ${describe(err)}`));
  });
  const ended = untilSessionEnd(client, io);
  const login = await client.connect();
  await joinRooms();
  io.err(
    `listening as ${where.userId} (device ${where.deviceId}) on ${where.host}:${where.port}, inbox head ${login.head}${rooms.length > 0 ? `, in room(s) ${rooms.join(' ')}` : ''} — Ctrl-C to stop`,
  );
  try {
    await ended;
  } finally {
    await client.close();
  }
}
