/** The text of `im help` and `im <command> --help`, from the command table (cli.ts COMMANDS). */
import type { CommandSpec } from './cli.js';

/** Options of the commands that log in (options.ts commonOptions). */
export const CONNECT_HELP: [string, string][] = [
  ['--as USER', 'log in as USER (required)'],
  ['--host HOST', 'the edge to connect to (default 127.0.0.1)'],
  ['--port PORT', 'its port (default IM_EDGE_PORT or 7100; with --tls IM_EDGE_TLS_PORT or 7143)'],
  ['--token JWT', 'log in with this token (default: one signed with the development secret)'],
  ['--device ID', 'the device id (default cli-<pid>: two commands never kick each other)'],
  ['--tls', 'connect with TLS, trusting the system CAs'],
  ['--ca FILE', 'with TLS, trust only this CA (a self-signed or private CA)'],
  ['--rsa', 'log in with RSA (2) and seal every frame with AES (1) (protocol.md §2)'],
  ['--server-key FILE', "the server's RSA public key for --rsa (default: what `im server-key` prints)"],
];

/** Options of the commands that call the admin API (options.ts adminOptions). */
export const ADMIN_HELP: [string, string][] = [
  ['--admin URL', 'the admin API (default IM_ADMIN_URL or http://127.0.0.1:<IM_ADMIN_PORT or 7180>)'],
  [
    '--admin-secret S',
    'its bearer secret (default IM_ADMIN_SECRET or <IM_DATA_DIR or .data>/dev-admin-secret)',
  ],
  ['--json', 'print the result as JSON'],
];

const SECRETS_NOTE =
  'Tokens are signed with IM_JWT_SECRET or <IM_DATA_DIR or .data>/dev-jwt-secret (written by `pnpm start`) unless --token is given.';

function table(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => (k ? `  ${k.padEnd(width)}  ${v}` : `  ${v}`));
}

/** `im help`: every command with its one-line summary. */
export function overview(commands: Record<string, CommandSpec>): string {
  const names = Object.keys(commands);
  const width = Math.max(...names.map((n) => n.length));
  return [
    'usage: im <command> [options]     im <command> --help for one command',
    '',
    'commands:',
    ...names.map((n) => `  ${n.padEnd(width)}  ${commands[n]?.summary}`),
    '',
    SECRETS_NOTE,
  ].join('\n');
}

/** `im <name> --help`: summary, usage, its own arguments and options, then the shared ones. */
export function commandHelp(name: string, spec: CommandSpec): string {
  const shared =
    spec.shared === 'connect'
      ? ['', 'connection options:', ...table(CONNECT_HELP), '', SECRETS_NOTE]
      : spec.shared === 'admin'
        ? ['', 'admin options:', ...table(ADMIN_HELP)]
        : [];
  return [
    `im ${name} — ${spec.summary}`,
    '',
    `usage: ${spec.usage}`,
    ...(spec.args.length > 0 ? ['', ...table(spec.args)] : []),
    ...shared,
    '',
    '  -h, --help  this page',
  ].join('\n');
}
