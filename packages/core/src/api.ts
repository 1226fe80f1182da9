/**
 * What the edge asks of the services. In embedded mode these are the service objects
 * themselves; in the cluster they are gRPC clients (packages/rpc) with the same shape,
 * so the edge's command handlers never know which one they talk to.
 *
 * Errors: methods reject with `ImError` (from @im/protocol) carrying a contract status;
 * the edge turns it into the response status + ErrorInfo. Anything else becomes INTERNAL,
 * and a backend that cannot be reached becomes UNAVAILABLE.
 */
import type { PullRequest, PullResponse, SendAck } from '@im/protocol';
import type { Route } from './ports.js';

/** Who is asking: taken from the logged-in session, never from the request body. */
export interface Caller {
  userId: string;
  deviceId: string;
  nodeId: string;
  epoch: number;
}

export interface SendOptions {
  /** encrypt = 3 on the MS frame (protocol.md §2 End-to-end RSA). */
  e2e: boolean;
  /** W3C trace context of the edge's MS span when its trace is sampled (tracing.ts). */
  traceparent?: string;
}

export interface MessageApi {
  /**
   * protocol.md §6 Send (MS): `body` is the MS body as the client sent it (after decryption and
   * decompression), decoded by the service — the edge forwards it untouched. Stored durably before
   * it resolves; fan-out happens after.
   */
  send(caller: Caller, body: Uint8Array, opts: SendOptions): Promise<SendAck>;
  /** protocol.md §6 sync model and Conversation history (MP). */
  pull(caller: Caller, req: PullRequest): Promise<PullResponse>;
  /** protocol.md §6 Recall (MR). */
  recall(caller: Caller, messageUid: bigint): Promise<void>;
  /** The caller's inbox head (LoginResponse.head). */
  head(userId: string): Promise<number>;
  /**
   * The inbox heads of many users in one call: an edge's head sync (protocol.md §6 Guarantee:
   * a device that missed a push learns of the message by MN within the route refresh period).
   */
  heads(userIds: string[]): Promise<Map<string, number>>;
  /** protocol.md §6 Chatrooms (CRJ / CRQ); the edge also calls leave on disconnect. */
  joinChatroom(caller: Caller, chatroomId: string): Promise<void>;
  quitChatroom(caller: Caller, chatroomId: string): Promise<void>;
  /**
   * The chatrooms an edge node still has members in, sent with its route refresh: their membership
   * TTL restarts, so the membership of a node that died expires (protocol.md §6 Heartbeat).
   */
  chatroomHeartbeat(nodeId: string, chatroomIds: string[]): Promise<void>;
}

export interface LoginInput {
  userId: string;
  deviceId: string;
  nodeId: string;
  platform: number;
  publicKey: Uint8Array;
}

export interface PresenceApi {
  /**
   * Registers the route with a new epoch. A previous connection of the same
   * (userId, deviceId), on any node, is sent a kick through the delivery bus.
   */
  login(input: LoginInput): Promise<{ epoch: number }>;
  /** login() for each, in order, in one round trip; fails as a whole. */
  loginMany(inputs: LoginInput[]): Promise<{ epoch: number }[]>;
  /** Removes the route if it still has this epoch. */
  logout(userId: string, deviceId: string, epoch: number): Promise<void>;
  /** Batched TTL refresh of the routes an edge node holds. */
  heartbeat(routes: Route[]): Promise<void>;
  /** Online devices of a user (admin API). */
  devices(userId: string): Promise<Route[]>;
  /** The public key a user published at LOGIN (SPKI DER), or null. */
  publicKey(userId: string): Promise<Uint8Array | null>;
  /**
   * Admin kick (protocol.md §7): the device's connection, on whichever node holds it, gets LOGOUT
   * with KICKED and is closed; its route is removed. Epoch-guarded: a connection that logged in
   * after the lookup is not touched. False when the device is not online.
   */
  kick(userId: string, deviceId: string): Promise<boolean>;
}
