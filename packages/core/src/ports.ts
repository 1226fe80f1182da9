/**
 * The narrow interfaces every backend sits behind. Each has an in-memory (or embedded)
 * implementation and a real one (Redis, Kafka, PostgreSQL); one contract suite per port
 * (packages/core/test/contracts/) runs against both, so embedded mode cannot drift from
 * the cluster.
 *
 * Id types: message ids and uids are uint64 on the wire and `bigint` here; seq, head and
 * times are `number` (safe integers; the protocol layer refuses larger values).
 */

import type { Conversation, MessageContent } from '@im/protocol';

export type { Conversation, MessageContent };

/** A message as accepted and stored by the server (one row, shared by every inbox). */
export interface StoredMessage {
  uid: bigint;
  /** The client's own id (Message.messageId); with from + fromDevice the idempotency key. */
  messageId: bigint;
  from: string;
  fromDevice: string;
  to: string;
  /** As the sender addressed it: SINGLE → the peer user id; GROUP → group id. */
  conversation: Conversation;
  content: MessageContent;
  serverTime: number;
  /** True when encrypt = 3 (end-to-end): delivered frames are marked encrypt = 3. */
  e2e: boolean;
}

/** One inbox row: a message as one user sees it, at that user's seq. */
export interface InboxEntry {
  seq: number;
  message: StoredMessage;
}

export interface AppendRequest {
  message: StoredMessage;
  /** Distinct users whose inbox gets the message, the sender included. */
  inboxUsers: string[];
  /** W3C trace context of the send when its trace is sampled (tracing.ts); a store may ignore it. */
  traceparent?: string;
}

export interface AppendResult {
  /** The stored message's uid: on a duplicate, the ORIGINAL's (its ack repeats the first one). */
  uid: bigint;
  /** Likewise the original's serverTime on a duplicate. */
  serverTime: number;
  /** seq in each inbox user's inbox; on a duplicate only the sender's (0 when not an inbox user). */
  seqs: Map<string, number>;
  /** True when (from, fromDevice, messageId) was already stored: nothing new was written. */
  duplicate: boolean;
}

export interface PullPage {
  entries: InboxEntry[];
  head: number;
  hasMore: boolean;
}

/**
 * Durable message storage: messages plus a per-user inbox with a gap-free seq.
 * Every method is keyed by user id or message uid (so the schema can be sharded by user).
 */
export interface MessageStore {
  /**
   * Stores the message and appends it to every inbox user, atomically and durably,
   * before resolving. Idempotent on (from, fromDevice, messageId). Appends that touch the
   * same inboxes are ordered the same way in each of them.
   */
  append(req: AppendRequest): Promise<AppendResult>;
  /**
   * Inbox entries with seq > since, ascending, at most `limit`. With `maxBytes`, also no further
   * than the first entry that brings the running total of contentBytes() (store/inbox.ts, a lower
   * bound of each message's encoded size) above maxBytes: that entry is the last one returned, so
   * the caller sees where a response of maxBytes must end, and a pull never loads much more than
   * one response's worth of messages (protocol.md §1: no frame larger than the maximum body).
   */
  pull(userId: string, since: number, limit: number, maxBytes?: number): Promise<PullPage>;
  /**
   * One conversation as `userId` received it (conversation from that user's side: the
   * peer for SINGLE, the group id for GROUP), newest first, uid < beforeUid (0n = newest).
   * `maxBytes` as for pull().
   */
  history(
    userId: string,
    conversation: Conversation,
    beforeUid: bigint,
    limit: number,
    maxBytes?: number,
  ): Promise<InboxEntry[]>;
  /** The user's inbox head (0 when empty). */
  head(userId: string): Promise<number>;
  /** The inbox heads of many users at once (users with an empty inbox: 0); the edges' head sync. */
  heads(userIds: string[]): Promise<Map<string, number>>;
  get(uid: bigint): Promise<StoredMessage | null>;
  /**
   * Recall: wipes the stored content (contentType RECALL, empty data, searchable and push
   * content). Returns false when it was already recalled (so a resent MR appends nothing).
   */
  wipe(uid: bigint): Promise<boolean>;
  close(): Promise<void>;
}

/** A live connection's route: (user, device) → edge node. */
export interface Route {
  userId: string;
  deviceId: string;
  nodeId: string;
  /** Connection epoch: grows with each login of (user, device); newer wins. */
  epoch: number;
  platform: number;
}

export interface RouteStore {
  /**
   * Registers (userId, deviceId) on nodeId with a new, larger epoch, atomically replacing
   * any previous route, which is returned so its connection can be kicked.
   */
  register(r: Omit<Route, 'epoch'>): Promise<{ route: Route; previous: Route | null }>;
  /**
   * register() for each, in order, in one round trip (the logins of an edge's turn): the same as
   * calling it for each in turn, including two of one (user, device), the second replacing the first.
   */
  registerMany(rs: Omit<Route, 'epoch'>[]): Promise<{ route: Route; previous: Route | null }[]>;
  /** Removes the route only if it still has this epoch (a late cleanup never removes a newer route). */
  unregister(userId: string, deviceId: string, epoch: number): Promise<boolean>;
  /** Keeps routes alive (TTL); a route whose epoch changed is neither refreshed nor revived. */
  refresh(routes: Route[]): Promise<void>;
  /** Live routes of each user (users with none are absent); the caller must not change them. */
  lookup(userIds: string[]): Promise<Map<string, Route[]>>;
  close(): Promise<void>;
}

/**
 * A message as the edges deliver it (protocol.md §5, server fields filled), encoded ONCE by the
 * fan-out and shared by every delivery of it: the MPS body for a user is `bytes` followed by that
 * user's seq field (Message.seq is field 8, the last; @im/protocol withSeq).
 */
export interface EncodedMessage {
  /** im.Message without seq. */
  bytes: Uint8Array;
  /** True when encrypt = 3 (end-to-end): delivered frames are marked encrypt = 3. */
  e2e: boolean;
  from: string;
  fromDevice: string;
  /** Message.serverTime (metrics: serverTime → MPS written). */
  serverTime: number;
  /** W3C trace context of its fan-out when the message's trace is sampled (tracing.ts). */
  traceparent?: string;
}

/** What an edge node must do for one user (all of that user's devices on that node). */
export type Delivery =
  | {
      kind: 'message';
      nodeId: string;
      userId: string;
      message: EncodedMessage;
      /** The message's seq in userId's inbox; 0 for transient messages. */
      seq: number;
      /** Skip this device (the sender's own connection got the ack). */
      excludeDeviceId?: string;
    }
  | { kind: 'notify'; nodeId: string; userId: string; head: number; excludeDeviceId?: string }
  /**
   * protocol.md §6 Chatrooms: ONE per edge node holding members of the room (not one per member);
   * the edge pushes it (MPS, seq 0) to each of its local member connections except the sending one
   * (message.from on message.fromDevice).
   */
  | { kind: 'room'; nodeId: string; roomId: string; message: EncodedMessage }
  | { kind: 'kick'; nodeId: string; userId: string; deviceId: string; epoch: number };

/** The offline-push record (protocol.md §6 Offline push hook), one per offline recipient. */
export interface OfflinePush {
  userId: string;
  messageUid: bigint;
  conversation: Conversation;
  from: string;
  pushContent: string;
  mentioned: boolean;
}

export interface Subscription {
  close(): Promise<void>;
}

/** Carries deliveries to the one edge node that holds the devices. */
export interface DeliveryBus {
  /** Resolves once the bus has accepted every delivery (Kafka: acked by the broker). */
  publish(deliveries: Delivery[]): Promise<void>;
  /** Deliveries addressed to nodeId, in publish order per user. */
  subscribe(nodeId: string, handler: (batch: Delivery[]) => Promise<void>): Promise<Subscription>;
  publishOfflinePush(records: OfflinePush[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * protocol.md §2 RSA freshness: remembers what a recorded RSA LOGIN would repeat (its wrapped
 * secret) for as long as its clientTime keeps it fresh, so a replay is refused — on every edge:
 * Redis in the cluster, memory in embedded mode (one process).
 */
export interface ReplayCache {
  /** Records `key` for `ttlMs`; false when it is recorded already (a replay). Atomic. */
  remember(key: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Cluster-unique, time-ordered message uids without per-message coordination. */
export interface UidGenerator {
  next(): bigint;
}
