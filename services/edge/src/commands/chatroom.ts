/**
 * CRJ / CRQ (protocol.md §4 extensions, §6 Chatrooms): empty body, status. The connection
 * remembers its rooms so a disconnect leaves them.
 */
import { codec, ImError, Status } from '@im/protocol';
import type { Connection } from '../connection.js';
import type { EdgeContext } from '../context.js';
import type { Reply, Request } from '../dispatch.js';

const EMPTY = new Uint8Array(0);

function chatroomId(req: Request): string {
  const { chatroomId } = codec.ChatroomRequest.decode(req.body);
  if (!chatroomId) throw new ImError(Status.BAD_REQUEST, 'ChatroomRequest.chatroomId is required');
  return chatroomId;
}

export async function chatroomJoin(ctx: EdgeContext, conn: Connection, req: Request): Promise<Reply> {
  const id = chatroomId(req);
  await ctx.message.joinChatroom(conn.caller(), id);
  conn.chatrooms.add(id);
  return { body: EMPTY };
}

export async function chatroomQuit(ctx: EdgeContext, conn: Connection, req: Request): Promise<Reply> {
  const id = chatroomId(req);
  await ctx.message.quitChatroom(conn.caller(), id);
  conn.chatrooms.delete(id);
  return { body: EMPTY };
}
