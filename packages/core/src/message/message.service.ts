import {
  ContentType,
  ConversationType,
  codec,
  DEFAULT_MAX_BODY_LENGTH,
  type DecodeLimits,
  emptyContent,
  ImError,
  type MessageContent,
  type PullRequest,
  type PullResponse,
  type SendAck,
  Status,
} from '@im/protocol';
import type { Caller, MessageApi, SendOptions } from '../api.js';
import { type Clock, systemClock } from '../clock.js';
import type { Config } from '../config.js';
import type { GroupDirectory } from '../groups.js';
import type { Logger } from '../log.js';
import type { DeliveryBus, MessageStore, RouteStore, StoredMessage, UidGenerator } from '../ports.js';
import { endSpan, SpanKind, startSpan, traceparentOf, tracing } from '../tracing.js';
import { uidToBytes } from '../uid.js';
import type { ChatroomService } from './chatrooms.js';
import { chatroomPolicy } from './conversations/chatroom.js';
import { groupPolicy } from './conversations/group.js';
import type { Audience, ConversationPolicy } from './conversations/policy.js';
import { singlePolicy } from './conversations/single.js';
import { Fanout } from './fanout.js';
import { aloneInPullBytes, fitPage, pullMessagesBudget } from './pull-page.js';
import { TypingLimiter } from './typing-limit.js';
import { toWireMessage } from './wire.js';

export type MessageConfig = Config['message'];

export interface MessageServiceDeps {
  store: MessageStore;
  routes: RouteStore;
  bus: DeliveryBus;
  uid: UidGenerator;
  groups: GroupDirectory;
  config: MessageConfig;
  logger: Logger;
  clock?: Clock;
  /**
   * protocol.md §6 Chatrooms (directory, who is present, idle eviction). Without it no chatroom
   * exists: CRJ and chatroom sends are NOT_FOUND. Its eviction sweep is started by the owner.
   */
  chatrooms?: ChatroomService;
  /** Replaces the policy of a conversation type (tests). */
  policies?: Partial<Record<number, ConversationPolicy>>;
  /**
   * Caps for decoding MS bodies (protocol.md §6 Limits and abuse): the edge forwards the body as
   * the client sent it and this service decodes it, once. Default: uncapped (tests).
   */
  decodeLimits?: DecodeLimits;
  /**
   * The largest body of a frame (config edge.maxBodyBytes, protocol.md §1): no PullResponse is
   * larger, and an MS that could never fit one is refused. Default 1 MiB.
   */
  maxBodyBytes?: number;
}

/** protocol.md §5 PullRequest.limit: 0 means the default; larger values are capped. */
export const PULL_DEFAULT_LIMIT = 100;
export const PULL_MAX_LIMIT = 500;

/** protocol.md §5 mentionedType: 0 none, 1 the listed targets, 2 everyone. */
const MENTION_TARGETS = 1;
const MENTION_MAX = 2;

/**
 * The device id recorded on RECALL notices. With messageId = the recalled uid it makes the notice
 * idempotent: a resent MR, or one retried after a failure between wipe and append, stores at most
 * one notice. Never on the wire (Message has no device field).
 */
export const RECALL_DEVICE = 'server:recall';

/**
 * protocol.md §6 Send, Delivery, Inbox, History, Recall, Transient content. Conversation-type rules
 * live in the policies (conversations/); this class holds what is common to all of them.
 */
export class MessageService implements MessageApi {
  private readonly store: MessageStore;
  private readonly uid: UidGenerator;
  private readonly clock: Clock;
  private readonly config: MessageConfig;
  private readonly policies: Map<number, ConversationPolicy>;
  private readonly fanout: Fanout;
  private readonly chatrooms: ChatroomService | undefined;
  private readonly limits: DecodeLimits;
  private readonly maxBodyBytes: number;
  private readonly typing: TypingLimiter;

  constructor(deps: MessageServiceDeps) {
    this.store = deps.store;
    this.limits = deps.decodeLimits ?? {};
    this.maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_LENGTH;
    this.uid = deps.uid;
    this.clock = deps.clock ?? systemClock;
    this.config = deps.config;
    this.chatrooms = deps.chatrooms;
    this.typing = new TypingLimiter(deps.config.typingPerSecond, deps.config.typingBurst, this.clock);
    const policies: Record<number, ConversationPolicy> = {
      [ConversationType.SINGLE]: singlePolicy(),
      [ConversationType.GROUP]: groupPolicy(deps.groups, deps.config.pushMaxGroupMembers),
      [ConversationType.CHATROOM]: chatroomPolicy(deps.chatrooms),
    };
    for (const [type, p] of Object.entries(deps.policies ?? {})) if (p) policies[Number(type)] = p;
    this.policies = new Map(Object.entries(policies).map(([t, p]) => [Number(t), p]));
    this.fanout = new Fanout({
      routes: deps.routes,
      bus: deps.bus,
      logger: deps.logger,
      pushMaxBodyBytes: deps.config.pushMaxBodyBytes,
      lingerMs: deps.config.fanoutLingerMs,
    });
  }

  /** The fan-out queue now (services/message fanout-metrics.ts). */
  fanoutStats(): { queued: number; dropped: number } {
    return { queued: this.fanout.queued, dropped: this.fanout.overflowedJobs };
  }

  send(caller: Caller, body: Uint8Array, opts: SendOptions): Promise<SendAck> {
    // tracing.ts: a span only for an MS whose trace the edge sampled; the rest pass straight on
    // (not through another async frame: no extra promise per MS).
    if (!opts.traceparent || !tracing.on) return this.accept(caller, body, opts, undefined);
    return this.tracedSend(caller, body, opts, opts.traceparent);
  }

  private async tracedSend(
    caller: Caller,
    body: Uint8Array,
    opts: SendOptions,
    traceparent: string,
  ): Promise<SendAck> {
    const span = startSpan('im.message.send', SpanKind.SERVER, traceparent, {
      'im.user': caller.userId,
      'im.node': caller.nodeId,
    });
    try {
      const ack = await this.accept(caller, body, opts, traceparentOf(span));
      span?.setAttributes({ 'im.message_uid': String(ack.messageUid), 'im.seq': ack.seq });
      endSpan(span);
      return ack;
    } catch (err) {
      endSpan(span, err);
      throw err;
    }
  }

  /** protocol.md §6 Send; `trace` (a traceparent) goes with the append and the fan-out. */
  private async accept(
    caller: Caller,
    body: Uint8Array,
    opts: SendOptions,
    trace: string | undefined,
  ): Promise<SendAck> {
    // protocol.md §3: an empty MS body is BAD_REQUEST (it would decode to an all-default Message).
    if (body.length === 0) throw new ImError(Status.BAD_REQUEST, 'MS needs a Message body');
    const message = codec.Message.decode(body, this.limits);
    if (message.from !== '' && message.from !== caller.userId) {
      throw new ImError(Status.FORBIDDEN, 'from differs from the logged-in user');
    }
    const conversation = message.conversation;
    if (!conversation || conversation.target === '') {
      throw new ImError(Status.BAD_REQUEST, 'conversation with a non-empty target is required');
    }
    const policy = this.policy(conversation.type);
    const content = message.messageContent;
    if (!content) throw new ImError(Status.BAD_REQUEST, 'messageContent is required');
    checkContent(content, opts.e2e);

    const audience = await policy.resolve({ sender: caller.userId, caller, conversation, to: message.to });
    if (audience.members) checkMentions(content, audience.members);

    const stored: StoredMessage = {
      uid: this.uid.next(),
      messageId: message.messageId,
      from: caller.userId,
      fromDevice: caller.deviceId,
      to: audience.to,
      conversation: { type: conversation.type, target: conversation.target },
      content,
      serverTime: this.clock.now(),
      e2e: opts.e2e,
    };

    // protocol.md §6 Chatrooms: not stored, seq 0, once per edge node with members, never offline-pushed.
    if (audience.room) {
      this.checkPushable(stored, 'a chatroom message');
      const { id, nodes } = audience.room;
      if (nodes.length > 0) this.fanout.enqueue({ message: stored, roomId: id, nodes, traceparent: trace });
      return { messageUid: stored.uid, serverTime: stored.serverTime, seq: 0 };
    }
    // protocol.md §6 Transient content: TYPING is never stored, takes seq 0, and reaches only the
    // recipients' devices online now — not the sender's own.
    if (content.contentType === ContentType.TYPING) {
      this.checkPushable(stored, 'a TYPING');
      this.typing.take(caller.userId, stored.conversation);
      const targets = new Map(audience.recipients.filter((u) => u !== caller.userId).map((u) => [u, 0]));
      this.deliver(stored, targets, caller.deviceId, audience, false, trace);
      return { messageUid: stored.uid, serverTime: stored.serverTime, seq: 0 };
    }
    // Not stored by its conversation type (chatroom): delivered to those present, seq 0.
    if (audience.inboxUsers.length === 0) {
      this.checkPushable(stored, 'a message that is not stored');
      this.deliver(
        stored,
        new Map(audience.recipients.map((u) => [u, 0])),
        caller.deviceId,
        audience,
        false,
        trace,
      );
      return { messageUid: stored.uid, serverTime: stored.serverTime, seq: 0 };
    }

    this.checkPullable(stored, body.length);
    // Durable in every inbox before the ack (protocol.md §6 Send).
    const result = await this.store.append({
      message: stored,
      inboxUsers: [...audience.inboxUsers],
      ...(trace ? { traceparent: trace } : {}),
    });
    const ack = {
      messageUid: result.uid,
      serverTime: result.serverTime,
      seq: result.seqs.get(caller.userId) ?? 0,
    };
    // An idempotent resend returns the original's ack and is not delivered again.
    if (!result.duplicate) {
      this.deliver(stored, result.seqs, caller.deviceId, audience, audience.offlinePush, trace);
    }
    return ack;
  }

  /**
   * protocol.md §1: a PullResponse is never larger than the maximum body. The store reads at most
   * about one response's worth (its maxBytes), and the page is then cut exactly where the encoded
   * messages stop fitting — always after at least one — with hasMore set.
   */
  async pull(caller: Caller, req: PullRequest): Promise<PullResponse> {
    const limit = req.limit === 0 ? PULL_DEFAULT_LIMIT : Math.min(req.limit, PULL_MAX_LIMIT);
    const budget = pullMessagesBudget(this.maxBodyBytes);
    if (req.conversation) {
      // protocol.md §6 Conversation history: as the caller received it, newest first; since ignored.
      if (req.conversation.target === '')
        throw new ImError(Status.BAD_REQUEST, 'conversation target is empty');
      this.policy(req.conversation.type);
      // One more than asked for: hasMore is exact (no empty last page when the count divides evenly).
      const entries = await this.store.history(
        caller.userId,
        req.conversation,
        req.beforeUid,
        limit + 1,
        budget,
      );
      const head = await this.store.head(caller.userId);
      const page = fitPage(
        entries.slice(0, limit).map((e) => toWireMessage(e.message, e.seq)),
        this.maxBodyBytes,
      );
      return { messages: page.messages, head, hasMore: entries.length > page.messages.length };
    }
    const stored = await this.store.pull(caller.userId, req.since, limit, budget);
    const page = fitPage(
      stored.entries.map((e) => toWireMessage(e.message, e.seq)),
      this.maxBodyBytes,
    );
    return { messages: page.messages, head: stored.head, hasMore: stored.hasMore || page.cut };
  }

  /** protocol.md §6 Recall (MR). */
  async recall(caller: Caller, messageUid: bigint): Promise<void> {
    const original = await this.store.get(messageUid);
    if (!original) throw new ImError(Status.NOT_FOUND, 'unknown message');
    if (original.from !== caller.userId) throw new ImError(Status.FORBIDDEN, 'only the sender may recall');
    if (this.clock.now() - original.serverTime > this.config.recallWindowMs) {
      throw new ImError(Status.EXPIRED, 'the recall window has passed');
    }
    // A recall notice is itself nothing to recall.
    if (original.fromDevice === RECALL_DEVICE) return;
    // false when already recalled. The notice below is idempotent on (recaller, RECALL_DEVICE,
    // recalled uid), so a resent MR appends nothing, and one retried after a failure between the
    // two steps still appends the notice once.
    await this.store.wipe(messageUid);
    const audience = await this.policy(original.conversation.type).recallAudience(original);
    const notice: StoredMessage = {
      uid: this.uid.next(),
      messageId: messageUid,
      from: caller.userId,
      fromDevice: RECALL_DEVICE,
      to: original.to,
      conversation: { ...original.conversation },
      content: recallContent(messageUid),
      serverTime: this.clock.now(),
      e2e: false,
    };
    const result = await this.store.append({ message: notice, inboxUsers: [...audience.inboxUsers] });
    if (!result.duplicate) this.deliver(notice, result.seqs, caller.deviceId, audience, audience.offlinePush);
  }

  async head(userId: string): Promise<number> {
    return this.store.head(userId);
  }

  async heads(userIds: string[]): Promise<Map<string, number>> {
    return this.store.heads(userIds);
  }

  /** protocol.md §6 Chatrooms (CRJ); §7: an unknown chatroom is NOT_FOUND. */
  async joinChatroom(caller: Caller, chatroomId: string): Promise<void> {
    if (!this.chatrooms) throw new ImError(Status.NOT_FOUND, 'unknown chatroom');
    await this.chatrooms.join(caller, chatroomId);
  }

  /** protocol.md §6 Chatrooms (CRQ, and disconnect). */
  async quitChatroom(caller: Caller, chatroomId: string): Promise<void> {
    if (!this.chatrooms) throw new ImError(Status.NOT_FOUND, 'unknown chatroom');
    await this.chatrooms.quit(caller, chatroomId);
  }

  /** The rooms an edge node still has members in (their membership TTL restarts). */
  async chatroomHeartbeat(nodeId: string, chatroomIds: string[]): Promise<void> {
    await this.chatrooms?.heartbeat(nodeId, chatroomIds);
  }

  /** Resolves once every fan-out queued so far was handed to the bus (tests, shutdown). */
  drain(): Promise<void> {
    return this.fanout.drain();
  }

  /** Stops the chatroom sweep and finishes queued fan-out; the injected backends are closed by their owner. Safe to repeat. */
  close(): Promise<void> {
    this.chatrooms?.close();
    return this.fanout.close();
  }

  /**
   * protocol.md §1: a stored message must fit in a PullResponse of the maximum body on its own, with
   * the server's fields (uid, serverTime, from, to, the largest seq); else it could never be pulled.
   * Encoded only when the MS body is near the limit (the body plus the most the server adds).
   */
  private checkPullable(stored: StoredMessage, bodyLength: number): void {
    const mostAdded = 64 + 3 * (stored.from.length + stored.to.length);
    if (bodyLength + mostAdded + 16 <= pullMessagesBudget(this.maxBodyBytes)) return;
    const size = aloneInPullBytes(toWireMessage(stored, 0));
    if (size > this.maxBodyBytes) {
      throw new ImError(
        Status.BAD_REQUEST,
        `message too large: it would make a PullResponse of ${size} bytes with the server's fields; the maximum body is ${this.maxBodyBytes} bytes`,
      );
    }
  }

  /**
   * protocol.md §6 Limits and abuse: a message that only travels by push (chatroom, TYPING) has no
   * inbox to be pulled from, so a body over the push limit (config message.pushMaxBodyBytes) —
   * which would be announced by MN instead — is refused.
   */
  private checkPushable(stored: StoredMessage, what: string): void {
    const size = codec.Message.encode(toWireMessage(stored, 0)).length;
    if (size > this.config.pushMaxBodyBytes) {
      throw new ImError(
        Status.BAD_REQUEST,
        `${what} of ${size} bytes is over the push limit of ${this.config.pushMaxBodyBytes} bytes: it is only pushed, never stored to be pulled`,
      );
    }
  }

  private policy(type: number): ConversationPolicy {
    const p = this.policies.get(type);
    if (!p) throw new ImError(Status.BAD_REQUEST, `unknown conversation type ${type}`);
    return p;
  }

  private deliver(
    message: StoredMessage,
    targets: ReadonlyMap<string, number>,
    senderDevice: string,
    audience: Audience,
    offlinePush: boolean,
    traceparent?: string,
  ): void {
    if (targets.size === 0) return;
    this.fanout.enqueue({
      message,
      targets,
      senderDevice,
      notifyOnly: audience.notifyOnly,
      offlinePush,
      traceparent,
    });
  }
}

function checkContent(content: MessageContent, e2e: boolean): void {
  // RECALL is system content (protocol.md §5): only the server writes it.
  if (content.contentType === ContentType.RECALL) {
    throw new ImError(Status.BAD_REQUEST, 'contentType RECALL is reserved for the server');
  }
  // protocol.md §2 End-to-end RSA: no plaintext may reach storage.
  if (e2e && (content.searchableContent !== '' || content.pushContent !== '')) {
    throw new ImError(
      Status.BAD_REQUEST,
      'end-to-end messages must have empty searchableContent and pushContent',
    );
  }
  if (content.mentionedType > MENTION_MAX) {
    throw new ImError(Status.BAD_REQUEST, `unknown mentionedType ${content.mentionedType}`);
  }
}

/** protocol.md §6 Groups: mentioning a non-member is BAD_REQUEST. */
function checkMentions(content: MessageContent, members: readonly string[]): void {
  if (content.mentionedType !== MENTION_TARGETS) return;
  const set = new Set(members);
  const stranger = content.mentionedTargets.find((t) => !set.has(t));
  if (stranger !== undefined) throw new ImError(Status.BAD_REQUEST, 'mentioned user is not a member');
}

/** protocol.md §5 RECALL: data = the recalled uid, 8 bytes big-endian. */
function recallContent(uid: bigint): MessageContent {
  return { ...emptyContent(ContentType.RECALL), data: uidToBytes(uid) };
}
