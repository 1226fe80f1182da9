/**
 * `im room create|show|delete <chatroomId>`: chatrooms through the admin API (protocol.md §7:
 * CRJ to a room that was not created is NOT_FOUND). To be in a room: `im listen --room <id>`;
 * to send there: `im send --room <id> <text...>`.
 */
import { adminApi } from '../admin.js';
import type { CommandContext } from '../cli.js';
import { toJson } from '../format.js';
import { UsageError } from '../io.js';

interface RoomView {
  chatroomId: string;
  members?: number;
}

export async function room({ flags, positionals, env, io }: CommandContext): Promise<void> {
  const [action, chatroomId, extra] = positionals;
  if (!action || !chatroomId) throw new UsageError('expected an action and a <chatroomId>');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const api = await adminApi(flags, env);
  const path = `/v1/chatrooms/${encodeURIComponent(chatroomId)}`;
  switch (action) {
    case 'create':
    case 'show': {
      const view =
        action === 'create'
          ? await api.call<RoomView>('POST', '/v1/chatrooms', { chatroomId })
          : await api.call<RoomView>('GET', path);
      io.out(flags.json ? toJson(view) : `room ${view.chatroomId}: ${view.members ?? 0} member(s) present`);
      return;
    }
    case 'delete':
      await api.call('DELETE', path);
      io.out(flags.json ? toJson({ chatroomId, deleted: true }) : `deleted room ${chatroomId}`);
      return;
    default:
      throw new UsageError(`unknown action "${action}" (create, show, delete)`);
  }
}
