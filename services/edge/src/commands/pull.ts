/** MP (protocol.md §4, §6 sync model and Conversation history): PullRequest → PullResponse. */
import { codec } from '@im/protocol';
import type { Connection } from '../connection.js';
import type { EdgeContext } from '../context.js';
import type { Reply, Request } from '../dispatch.js';

export async function pull(ctx: EdgeContext, conn: Connection, req: Request): Promise<Reply> {
  const request = codec.PullRequest.decode(req.body, req.limits);
  const page = await ctx.message.pull(conn.caller(), request);
  return { body: codec.PullResponse.encode(page) };
}
