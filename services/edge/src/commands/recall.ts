/** MR (protocol.md §4, §6 Recall): empty body; the status says the outcome. */
import { codec, ImError, Status } from '@im/protocol';
import type { Connection } from '../connection.js';
import type { EdgeContext } from '../context.js';
import type { Reply, Request } from '../dispatch.js';

const EMPTY = new Uint8Array(0);

export async function recall(ctx: EdgeContext, conn: Connection, req: Request): Promise<Reply> {
  const { messageUid } = codec.RecallRequest.decode(req.body, req.limits);
  if (messageUid === 0n) throw new ImError(Status.BAD_REQUEST, 'RecallRequest.messageUid is required');
  await ctx.message.recall(conn.caller(), messageUid);
  return { body: EMPTY };
}
