/** MS (protocol.md §4, §6 Send): Message → SendAck, stored durably before the ack. */
import { codec } from '@im/protocol';
import type { Connection } from '../connection.js';
import type { EdgeContext } from '../context.js';
import type { Reply, Request } from '../dispatch.js';

/**
 * The body goes to the message service as the client sent it (after decryption and
 * decompression): the service decodes it, once, with the same caps (docs/architecture.md).
 */
export async function send(ctx: EdgeContext, conn: Connection, req: Request): Promise<Reply> {
  const ack = await ctx.message.send(conn.caller(), req.body, { e2e: req.e2e });
  conn.told(ack.seq);
  return { body: codec.SendAck.encode(ack) };
}
