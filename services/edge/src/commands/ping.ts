/** PING (protocol.md §4): empty OK response; any client frame also resets the idle timer. */
import type { Reply } from '../dispatch.js';

const EMPTY = new Uint8Array(0);

export async function ping(): Promise<Reply> {
  return { body: EMPTY };
}
