/**
 * `im group create|show|add|remove|delete <groupId> [users...]`: groups through the admin API
 * (protocol.md §6 Groups: membership is the admin API's job). Prints the group after each change.
 */
import { adminApi } from '../admin.js';
import type { CommandContext } from '../cli.js';
import { toJson } from '../format.js';
import { UsageError } from '../io.js';

interface GroupView {
  groupId: string;
  members: string[];
  createdAt: number;
}

const path = (id: string) => `/v1/groups/${encodeURIComponent(id)}`;

export async function group({ flags, positionals, env, io }: CommandContext): Promise<void> {
  const [action, groupId, ...users] = positionals;
  if (!action || !groupId) throw new UsageError('expected an action and a <groupId>');
  const api = await adminApi(flags, env);
  let view: GroupView | null = null;
  switch (action) {
    case 'create':
      view = await api.call<GroupView>('POST', '/v1/groups', { groupId, members: users });
      break;
    case 'show':
      view = await api.call<GroupView>('GET', path(groupId));
      break;
    case 'add':
      if (users.length === 0) throw new UsageError('expected <users...> to add');
      view = await api.call<GroupView>('POST', `${path(groupId)}/members`, { userIds: users });
      break;
    case 'remove':
      if (users.length === 0) throw new UsageError('expected <users...> to remove');
      for (const u of users) {
        view = await api.call<GroupView>('DELETE', `${path(groupId)}/members/${encodeURIComponent(u)}`);
      }
      break;
    case 'delete':
      await api.call('DELETE', path(groupId));
      io.out(flags.json ? toJson({ groupId, deleted: true }) : `deleted group ${groupId}`);
      return;
    default:
      throw new UsageError(`unknown action "${action}" (create, show, add, remove, delete)`);
  }
  if (!view) return;
  io.out(
    flags.json
      ? toJson(view)
      : `group ${view.groupId}: ${view.members.length} member(s): ${view.members.join(' ')}`,
  );
}
