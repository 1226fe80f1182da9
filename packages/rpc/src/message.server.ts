import type { MessageApi } from '@im/core';
import {
  callerFromWire,
  messageFromWire,
  pullRequestFromWire,
  pullResponseToWire,
  sendAckToWire,
} from './convert.js';
import { MessageService } from './gen/services.js';
import { fromU64, numToU64 } from './long.js';
import { type RpcServer, type ServeOptions, startRpcServer } from './server.js';

/** Serves a MessageApi (the message service) as im.internal.MessageService. */
export function serveMessage(impl: MessageApi, opts: ServeOptions): Promise<RpcServer> {
  return startRpcServer(
    MessageService,
    {
      send: async (r) =>
        sendAckToWire(
          await impl.send(callerFromWire(r.caller), messageFromWire(r.message), { e2e: r.e2e ?? false }),
        ),
      pull: async (r) =>
        pullResponseToWire(await impl.pull(callerFromWire(r.caller), pullRequestFromWire(r.request))),
      recall: async (r) => {
        await impl.recall(callerFromWire(r.caller), fromU64(r.messageUid));
        return {};
      },
      head: async (r) => ({ head: numToU64(await impl.head(r.userId ?? ''), 'HeadReply.head') }),
      joinChatroom: async (r) => {
        await impl.joinChatroom(callerFromWire(r.caller), r.chatroomId ?? '');
        return {};
      },
      quitChatroom: async (r) => {
        await impl.quitChatroom(callerFromWire(r.caller), r.chatroomId ?? '');
        return {};
      },
      chatroomHeartbeat: async (r) => {
        await impl.chatroomHeartbeat(r.nodeId ?? '', r.chatroomIds ?? []);
        return {};
      },
    },
    opts,
  );
}
