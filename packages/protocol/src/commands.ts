import { IMCommand } from './gen/im.js';

/**
 * Frame commands (protocol.md §4), as declared by im.proto's IMCommand: CRJ and CRQ are the decided
 * extensions numbered after the seed's.
 */
export const Command = IMCommand;

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
