/**
 * `im`: mosquitto_pub/sub for this protocol. `run()` parses argv, runs one command and returns the
 * exit code; every failure becomes one readable line on stderr (describe.ts). `im <command> --help`
 * (or `im help <command>`) prints that command's page (help.ts).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { chat } from './commands/chat.js';
import { group } from './commands/group.js';
import { listen } from './commands/listen.js';
import { pull } from './commands/pull.js';
import { recall } from './commands/recall.js';
import { room } from './commands/room.js';
import { send } from './commands/send.js';
import { serverKey } from './commands/server-key.js';
import { token } from './commands/token.js';
import { describeError } from './describe.js';
import { commandHelp, overview } from './help.js';
import { type Io, UsageError } from './io.js';
import { adminOptions, commonOptions, type Flags } from './options.js';

type Env = Record<string, string | undefined>;

export interface CommandContext {
  flags: Flags;
  positionals: string[];
  env: Env;
  io: Io;
}

export interface CommandSpec {
  /** One line: what the command does. */
  summary: string;
  usage: string;
  /** `[flag or argument, what it means]`, the command's own. */
  args: [string, string][];
  /** Shared option groups printed after the command's own (help.ts). */
  shared?: 'connect' | 'admin';
  options: ParseArgsConfig['options'];
  run(ctx: CommandContext): Promise<void>;
}

const CONNECT_USAGE = '[connection options]';
const ADMIN_USAGE = '[admin options]';

export const COMMANDS: Record<string, CommandSpec> = {
  token: {
    summary: 'print a development token (HS256 JWT) for a user',
    usage: 'im token <user> [--ttl 24h]',
    args: [
      ['<user>', 'the user id the token logs in as (its `sub`)'],
      ['--ttl DURATION', 'lifetime: seconds, or with a unit s, m, h, d (default 24h)'],
    ],
    options: { ttl: { type: 'string' } },
    run: token,
  },
  listen: {
    summary: 'log in and print every incoming message until Ctrl-C',
    usage: `im listen --as <user> [--join <chatroom>]... [--json] [--since SEQ] ${CONNECT_USAGE}`,
    args: [
      ['--join ROOM', 'also join this chatroom (repeatable); joined again after a reconnect'],
      ['--since SEQ', 'first pull the inbox after SEQ (default: only what arrives from now on)'],
      ['--json', 'one JSON object per message (bigints as strings, bytes as base64)'],
    ],
    shared: 'connect',
    options: {
      ...commonOptions,
      json: { type: 'boolean' },
      since: { type: 'string' },
      join: { type: 'string', multiple: true },
    },
    run: listen,
  },
  chat: {
    summary: 'chat interactively with a user, a group or a chatroom',
    usage: `im chat --as <user> [--group | --room] <peer> ${CONNECT_USAGE}`,
    args: [
      ['<peer>', 'the user to chat with (or the group / chatroom with --group / --room)'],
      ['--group', '<peer> is a group'],
      ['--room', '<peer> is a chatroom (joined first)'],
      ['', 'Type a line and Enter to send it; incoming messages are printed as they arrive.'],
      ['/history [N]', 'print the last N messages of the conversation (default 20)'],
      ['/recall [UID]', 'recall your last message sent here, or the message UID'],
      ['/help, /quit', 'these commands; leave (so does Ctrl-D or Ctrl-C)'],
    ],
    shared: 'connect',
    options: { ...commonOptions, group: { type: 'boolean' }, room: { type: 'boolean' } },
    run: chat,
  },
  send: {
    summary: 'send one message and print the SendAck',
    usage: `im send --as <user> [--group | --room] <to> <text...> [--json] ${CONNECT_USAGE}`,
    args: [
      ['<to>', 'the recipient user (or the group / chatroom with --group / --room)'],
      ['<text...>', 'the message text; the words are joined with spaces'],
      ['--group', '<to> is a group'],
      ['--room', '<to> is a chatroom (joined first: only members present may send)'],
      ['--json', 'print the SendAck as JSON'],
    ],
    shared: 'connect',
    options: {
      ...commonOptions,
      json: { type: 'boolean' },
      group: { type: 'boolean' },
      room: { type: 'boolean' },
    },
    run: send,
  },
  pull: {
    summary: "print a user's inbox, or the history of one conversation",
    usage: `im pull --as <user> [--since SEQ] [--with <peer> [--group] [--before UID]] [--limit N] [--json] ${CONNECT_USAGE}`,
    args: [
      ['--since SEQ', 'the inbox after SEQ (default 0: from the start)'],
      ['--with PEER', 'instead: the history with PEER (a user, or a group with --group), oldest first'],
      ['--before UID', 'with --with: messages older than this uid (the next page)'],
      ['--limit N', 'at most N messages (default: the server decides)'],
      ['--json', 'one JSON object per message'],
    ],
    shared: 'connect',
    options: {
      ...commonOptions,
      json: { type: 'boolean' },
      since: { type: 'string' },
      with: { type: 'string' },
      group: { type: 'boolean' },
      before: { type: 'string' },
      limit: { type: 'string' },
    },
    run: pull,
  },
  recall: {
    summary: 'recall (take back) a message you sent',
    usage: `im recall --as <user> <messageUid> ${CONNECT_USAGE}`,
    args: [['<messageUid>', 'the uid send printed; only its sender may recall it, within the recall window']],
    shared: 'connect',
    options: { ...commonOptions },
    run: recall,
  },
  'server-key': {
    summary: "print the server's RSA public key (PEM) and its fingerprint",
    usage: 'im server-key [--server-key FILE]',
    args: [
      [
        '--server-key FILE',
        "a PEM key file (default: the embedded server's <IM_DATA_DIR or .data>/dev-rsa-key.pem)",
      ],
    ],
    options: { 'server-key': { type: 'string' } },
    run: serverKey,
  },
  group: {
    summary: 'manage groups through the admin API',
    usage: `im group create|show|add|remove|delete <groupId> [users...] ${ADMIN_USAGE}`,
    args: [
      ['create <g> [users...]', 'create group g with these members'],
      ['show <g>', 'print its members'],
      ['add <g> <users...>', 'add members'],
      ['remove <g> <users...>', 'remove members'],
      ['delete <g>', 'delete the group'],
    ],
    shared: 'admin',
    options: { ...adminOptions },
    run: group,
  },
  room: {
    summary: 'manage chatrooms through the admin API',
    usage: `im room create|show|delete <chatroomId> ${ADMIN_USAGE}`,
    args: [
      ['create <room>', 'create the chatroom'],
      ['show <room>', 'print it and how many members are present'],
      ['delete <room>', 'delete it (present members are dropped)'],
    ],
    shared: 'admin',
    options: { ...adminOptions },
    run: room,
  },
};

export function usage(): string {
  return overview(COMMANDS);
}

const wantsHelp = (args: string[]) => args.some((a) => a === '--help' || a === '-h');

export async function run(argv: string[], env: Env, io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    (name === undefined ? io.err : io.out)(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === 'help') {
    const topic = rest[0];
    if (topic === undefined) {
      io.out(usage());
      return 0;
    }
    const spec = COMMANDS[topic];
    if (!spec) {
      io.err(`unknown command "${topic}"\n${usage()}`);
      return 2;
    }
    io.out(commandHelp(topic, spec));
    return 0;
  }
  const spec = COMMANDS[name];
  if (!spec) {
    io.err(`unknown command "${name}"\n${usage()}`);
    return 2;
  }
  // Before parsing: `im send --help` works whatever else is on the line.
  if (wantsHelp(rest)) {
    io.out(commandHelp(name, spec));
    return 0;
  }
  try {
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({ args: rest, options: spec.options, allowPositionals: true, strict: true });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    await spec.run({ flags: parsed.values as Flags, positionals: parsed.positionals, env, io });
    return 0;
  } catch (err) {
    const { line, exitCode } = describeError(err);
    io.err(line);
    if (err instanceof UsageError) io.err(`usage: ${spec.usage}  (im ${name} --help)`);
    return exitCode;
  }
}
