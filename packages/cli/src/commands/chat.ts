/**
 * `im chat --as <user> [--group | --room] <peer>`: an interactive session. Each line typed is sent
 * to the conversation; every incoming message is printed as `im listen` prints it; `/history [N]`
 * and `/recall [UID]` call HISTORY and MR (protocol.md §6). Ends on /quit, end of input, Ctrl-C
 * (exit 0) or a kick (exit 1). Reconnects and resyncs on its own, like `im listen`.
 */
import { chatroom, group, type ImClient, type SendResult, single, textContent } from '@im/client';
import type { Conversation } from '@im/protocol';
import type { CommandContext } from '../cli.js';
import { describe, describeError } from '../describe.js';
import { clock, formatMessage } from '../format.js';
import { CliError, type Io, UsageError } from '../io.js';
import { clientFor, target } from '../options.js';
import { untilSessionEnd } from '../session-end.js';

const DEFAULT_HISTORY = 20;
const CHAT_COMMANDS = '/history [N], /recall [UID], /help, /quit';

export async function chat({ flags, positionals, env, io }: CommandContext): Promise<void> {
  const [peer, ...extra] = positionals;
  if (!peer || extra.length > 0) throw new UsageError('expected exactly one <peer>');
  if (flags.group && flags.room) throw new UsageError('--group and --room exclude each other');
  if (!io.lines) throw new CliError('im chat needs an input to read lines from');
  const conversation = flags.group ? group(peer) : flags.room ? chatroom(peer) : single(peer);
  const label = flags.group ? `group ${peer}` : flags.room ? `room ${peer}` : peer;
  const me = target(flags, env);

  const client = await clientFor(flags, env, { reconnect: true });
  client.on('message', (m) => io.out(formatMessage(m)));
  client.on('reconnect', () => {
    io.err('reconnected');
    // protocol.md §6 Chatrooms: membership is per connection.
    if (flags.room)
      client.joinChatroom(peer).catch((err: unknown) => io.err(`rejoining failed: ${describe(err)}`));
  });
  client.on('error', (err) => {
    if (client.state !== 'closed') io.err(describe(err));
  });
  const ended = untilSessionEnd(client, io);
  await client.connect();
  try {
    if (flags.room) await client.joinChatroom(peer);
    io.err(
      `chatting with ${label} as ${me.userId} (device ${me.deviceId}) — type and Enter to send; ${CHAT_COMMANDS}`,
    );
    const session = new ChatSession(client, conversation, label, me.userId, io);
    await Promise.race([session.readLines(io.lines()), ended]);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

class ChatSession {
  /** The uid of the last message sent from here: what a bare /recall takes back. */
  private lastSent: bigint | undefined;

  constructor(
    private readonly client: ImClient,
    private readonly conversation: Conversation,
    private readonly label: string,
    private readonly userId: string,
    private readonly io: Io,
  ) {}

  /** One line at a time, in order; resolves at /quit or the end of input. */
  async readLines(lines: AsyncIterable<string>): Promise<void> {
    for await (const raw of lines) {
      const line = raw.trim();
      if (line === '') continue;
      if (line === '/quit' || line === '/exit') return;
      try {
        if (line.startsWith('/')) await this.command(line);
        else await this.send(line);
      } catch (err) {
        // A refused line (not a member, rate limited, too late to recall) does not end the chat.
        this.io.err(describeError(err).line);
      }
    }
  }

  private async send(text: string): Promise<void> {
    const ack = await this.client.send({ conversation: this.conversation, content: textContent(text) });
    this.lastSent = ack.messageUid;
    this.io.out(this.sentLine(text, ack));
  }

  /** The same shape as an incoming line (format.ts formatMessage), from the ack. */
  private sentLine(text: string, ack: SendResult): string {
    return `[${clock(ack.serverTime)}] ${this.userId} → ${this.label}: ${text}  (seq ${ack.seq}, uid ${ack.messageUid})`;
  }

  private async command(line: string): Promise<void> {
    const [name, arg, ...extra] = line.split(/\s+/);
    if (extra.length > 0) throw new CliError(`${name} takes at most one argument`);
    switch (name) {
      case '/history':
        return this.history(arg);
      case '/recall':
        return this.recall(arg);
      case '/help':
        this.io.err(`type and Enter to send; ${CHAT_COMMANDS}`);
        return;
      default:
        throw new CliError(`unknown command ${name} (${CHAT_COMMANDS})`);
    }
  }

  private async history(arg: string | undefined): Promise<void> {
    const limit = arg === undefined ? DEFAULT_HISTORY : Number(arg);
    if (!Number.isSafeInteger(limit) || limit <= 0)
      throw new CliError(`/history N: N must be a positive integer, got "${arg}"`);
    const page = await this.client.history(this.conversation, { limit });
    // Pages come newest first; a terminal reads better oldest first.
    for (const m of [...page.messages].reverse()) this.io.out(formatMessage(m));
    this.io.err(
      `${page.messages.length} message(s) of ${this.label}${page.hasMore ? '; older ones exist' : ''}`,
    );
  }

  private async recall(arg: string | undefined): Promise<void> {
    if (arg !== undefined && !/^\d{1,20}$/.test(arg))
      throw new CliError(`/recall UID: not a message uid: "${arg}"`);
    const uid = arg === undefined ? this.lastSent : BigInt(arg);
    if (uid === undefined) throw new CliError('/recall: nothing sent from here yet (give a UID)');
    await this.client.recall(uid);
    if (uid === this.lastSent) this.lastSent = undefined;
    this.io.out(`recalled ${uid}`);
  }
}
