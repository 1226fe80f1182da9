/** MS (protocol.md §4, §6 Send): Message → SendAck, stored durably before the ack. */
import { codec, ImError, Status } from '@im/protocol';
import type { Connection } from '../connection.js';
import type { EdgeContext } from '../context.js';
import type { Reply, Request } from '../dispatch.js';

export async function send(ctx: EdgeContext, conn: Connection, req: Request): Promise<Reply> {
  // protocol.md §3: an empty MS body is BAD_REQUEST (it would decode to an all-default Message).
  if (req.body.length === 0) throw new ImError(Status.BAD_REQUEST, 'MS needs a Message body');
  const message = codec.Message.decode(req.body, req.limits);
  const ack = await ctx.message.send(conn.caller(), message, { e2e: req.e2e });
  return { body: codec.SendAck.encode(ack) };
}
