/** Frame commands (protocol.md §4); CRJ and CRQ are the decided extensions numbered after the seed's. */
export const Command = {
  RESERVED: 0,
  LOGIN: 1,
  LOGOUT: 2,
  PING: 3,
  /** send message */
  MS: 4,
  /** pull messages */
  MP: 5,
  /** notify: new messages arrived (server → client) */
  MN: 6,
  /** recall message */
  MR: 7,
  /** server pushes a message (server → client) */
  MPS: 8,
  /** join a chatroom */
  CRJ: 9,
  /** quit a chatroom */
  CRQ: 10,
} as const;

export type CommandName = keyof typeof Command;
export type CommandCode = (typeof Command)[CommandName];

const NAMES: ReadonlyMap<number, CommandName> = new Map(
  Object.entries(Command).map(([name, code]) => [code, name as CommandName]),
);

/** The command's name, or `UNKNOWN(n)` for a number the contract does not define (for logs). */
export function commandName(n: number): string {
  return NAMES.get(n) ?? `UNKNOWN(${n})`;
}

/** True for a command number the contract defines (anything else gets UNSUPPORTED, protocol.md §4). */
export function isKnownCommand(n: number): n is CommandCode {
  return NAMES.has(n);
}
