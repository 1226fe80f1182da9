/**
 * CRJ / CRQ (protocol.md §4 extensions, §6 Chatrooms): empty body, status. The message service
 * records the membership (per node, for the cluster); the edge keeps its local room → connections
 * map for delivery, and the connection remembers its rooms so a disconnect leaves them.
 */
import { codec, ImError, Status } from '@im/protocol';
import type { Connection } from '../connection.js';
import type { EdgeContext } from '../context.js';
import type { Reply, Request } from '../dispatch.js';

const EMPTY = new Uint8Array(0);

function chatroomId(req: Request): string {
  const { chatroomId } = codec.ChatroomRequest.decode(req.body, req.limits);
  if (!chatroomId) throw new ImError(Status.BAD_REQUEST, 'ChatroomRequest.chatroomId is required');
  return chatroomId;
}

export async function chatroomJoin(ctx: EdgeContext, conn: Connection, req: Request): Promise<Reply> {
  const id = chatroomId(req);
  const caller = conn.caller();
  await ctx.message.joinChatroom(caller, id);
  if (conn.closing) {
    // Closed while joining: its close-time cleanup has run already, so leave here.
    ctx.track(ctx.message.quitChatroom(caller, id).catch(() => {}));
    return { body: EMPTY };
  }
  conn.chatrooms.add(id);
  ctx.rooms.add(id, conn);
  return { body: EMPTY };
}

export async function chatroomQuit(ctx: EdgeContext, conn: Connection, req: Request): Promise<Reply> {
  const id = chatroomId(req);
  await ctx.message.quitChatroom(conn.caller(), id);
  conn.chatrooms.delete(id);
  ctx.rooms.remove(id, conn);
  return { body: EMPTY };
}
