/**
 * `im`: mosquitto_pub/sub for this protocol. `run()` parses argv, runs one command and returns the
 * exit code; every failure becomes one readable line on stderr (describe.ts).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { group } from './commands/group.js';
import { listen } from './commands/listen.js';
import { pull } from './commands/pull.js';
import { recall } from './commands/recall.js';
import { room } from './commands/room.js';
import { send } from './commands/send.js';
import { serverKey } from './commands/server-key.js';
import { token } from './commands/token.js';
import { describeError } from './describe.js';
import { type Io, UsageError } from './io.js';
import { adminOptions, commonOptions, type Flags } from './options.js';

type Env = Record<string, string | undefined>;

export interface CommandContext {
  flags: Flags;
  positionals: string[];
  env: Env;
  io: Io;
}

interface CommandSpec {
  usage: string;
  options: ParseArgsConfig['options'];
  run(ctx: CommandContext): Promise<void>;
}

const CONNECT_USAGE =
  '[--host 127.0.0.1] [--port 7100] [--token JWT] [--device ID] [--tls [--ca FILE]] [--rsa [--server-key FILE]]';

const ADMIN_USAGE = '[--admin http://127.0.0.1:7180] [--admin-secret S] [--json]';

const COMMANDS: Record<string, CommandSpec> = {
  token: {
    usage: 'im token <user> [--ttl 24h]',
    options: { ttl: { type: 'string' } },
    run: token,
  },
  listen: {
    usage: `im listen --as <user> [--join <chatroom>]... [--json] [--since SEQ] ${CONNECT_USAGE}`,
    options: {
      ...commonOptions,
      json: { type: 'boolean' },
      since: { type: 'string' },
      join: { type: 'string', multiple: true },
    },
    run: listen,
  },
  send: {
    usage: `im send --as <user> [--group | --room] <to> <text...> [--json] ${CONNECT_USAGE}`,
    options: {
      ...commonOptions,
      json: { type: 'boolean' },
      group: { type: 'boolean' },
      room: { type: 'boolean' },
    },
    run: send,
  },
  pull: {
    usage: `im pull --as <user> [--since SEQ] [--with <peer> [--group] [--before UID]] [--limit N] [--json] ${CONNECT_USAGE}`,
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
  'server-key': {
    usage: 'im server-key [--server-key FILE]',
    options: { 'server-key': { type: 'string' } },
    run: serverKey,
  },
  group: {
    usage: `im group create|show|add|remove|delete <groupId> [users...] ${ADMIN_USAGE}`,
    options: { ...adminOptions },
    run: group,
  },
  room: {
    usage: `im room create|show|delete <chatroomId> ${ADMIN_USAGE}`,
    options: { ...adminOptions },
    run: room,
  },
  recall: {
    usage: `im recall --as <user> <messageUid> ${CONNECT_USAGE}`,
    options: { ...commonOptions },
    run: recall,
  },
};

export function usage(): string {
  return [
    'usage:',
    ...Object.values(COMMANDS).map((c) => `  ${c.usage}`),
    '',
    'Tokens are signed with IM_JWT_SECRET or <IM_DATA_DIR or .data>/dev-jwt-secret unless --token is given.',
    '--port defaults to IM_EDGE_PORT or 7100 (with --tls: IM_EDGE_TLS_PORT or 7143).',
    '--tls connects with TLS (--ca FILE trusts a private CA); --rsa logs in with RSA (2) and seals every frame',
    '  with AES (1), using --server-key FILE or the key `im server-key` prints.',
    'group / room call the admin API: --admin defaults to IM_ADMIN_URL or http://127.0.0.1:<IM_ADMIN_PORT or 7180>,',
    '  --admin-secret to IM_ADMIN_SECRET or <IM_DATA_DIR or .data>/dev-admin-secret (written by `pnpm start`).',
  ].join('\n');
}

export async function run(argv: string[], env: Env, io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    (name === undefined ? io.err : io.out)(usage());
    return name === undefined ? 2 : 0;
  }
  const spec = COMMANDS[name];
  if (!spec) {
    io.err(`unknown command "${name}"\n${usage()}`);
    return 2;
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
    if (err instanceof UsageError) io.err(`usage: ${spec.usage}`);
    return exitCode;
  }
}
