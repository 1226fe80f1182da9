/** `im send --as <user> [--group | --room] <to> <text...>`: one MS, prints the SendAck. */
import { chatroom, group, single, textContent } from '@im/client';
import type { CommandContext } from '../cli.js';
import { formatAck, toJson } from '../format.js';
import { UsageError } from '../io.js';
import { clientFor } from '../options.js';

export async function send({ flags, positionals, env, io }: CommandContext): Promise<void> {
  const [to, ...words] = positionals;
  if (!to || words.length === 0) throw new UsageError('expected <to> and <text...>');
  if (flags.group && flags.room) throw new UsageError('--group and --room exclude each other');
  const conversation = flags.group ? group(to) : flags.room ? chatroom(to) : single(to);
  const client = await clientFor(flags, env, { reconnect: false });
  try {
    await client.connect();
    // protocol.md §6 Chatrooms: only members present may send.
    if (flags.room) await client.joinChatroom(to);
    const ack = await client.send({ conversation, content: textContent(words.join(' ')) });
    const label = flags.group ? `group ${to}` : flags.room ? `room ${to}` : to;
    io.out(flags.json ? toJson(ack) : formatAck(label, ack));
  } finally {
    await client.logout();
  }
}
