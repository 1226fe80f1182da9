/**
 * What the conformance suite runs against: one deployment of the server (the embedded process, or
 * the cluster of edges and services), seen from outside as a client sees it — TCP endpoints and the
 * JWT secret tokens are signed with. Capabilities a deployment may lack are optional; a scenario
 * that needs one is skipped (and says why) on a target without it.
 */
import type { OfflinePush } from '../../packages/core/src/index.js';
import type { Endpoint } from '../support/im.js';

export type { Endpoint } from '../support/im.js';

/** One record of the offline-push hook (protocol.md §6; docs/protocol.md §8.11), messageUid as a bigint. */
export type OfflinePushRecord = OfflinePush;

export interface Target {
  /**
   * One per edge node; scenarios that cross nodes put users on different entries. All over one
   * transport: TCP, or WebSocket (`transport: 'ws'`, protocol.md §1).
   */
  endpoints: Endpoint[];
  /**
   * The same edge nodes over the other transport, when the target listens on both: scenarios put
   * one user's devices on TCP and WebSocket at once.
   */
  alternate?: Endpoint[];
  /** HS256 secret of LoginRequest.token (protocol.md §5). */
  jwtSecret: string;
  /** Device ids of a user's live routes (presence, protocol.md §6 Session). */
  devices?(userId: string): Promise<string[]>;
  /** The admin HTTP API (protocol.md §7): groups and chatrooms are created through it. */
  admin?: { url: string; secret: string };
  /**
   * protocol.md §6 Offline push hook: the records produced so far for userId, oldest first. They
   * may lag behind the send (a Kafka consumer in the cluster): scenarios wait through
   * Harness.offlinePushes. Embedded: the server's in-memory list; cluster: the offline-push topic.
   */
  offlinePushes?(userId: string): Promise<OfflinePushRecord[]>;
  /** Upper bound for a push or a kick to arrive (crossing Kafka takes longer than memory). */
  deliveryTimeoutMs?: number;
  /** Recent server logs, printed when a scenario fails. */
  logTail?(): Promise<string>;
  /** Stops everything the factory started. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The settings every conformance target must be started with; the scenarios assert these values
 * (LoginResponse.heartbeatSeconds, the body limit), so a factory that forgot them fails loudly.
 * The per-IP accept limit is raised because one suite opens a few hundred connections in seconds
 * from 127.0.0.1; the limit itself is tested by its own suite.
 */
export const CONFORMANCE_SETTINGS = {
  maxBodyBytes: 64 * 1024,
  heartbeatSeconds: 25,
  /** The default: bodies above it are announced with MN (protocol.md §4 MN). */
  pushMaxBodyBytes: 16 * 1024,
  acceptPerIpPerSecond: 10_000,
  acceptPerIpBurst: 10_000,
} as const;

/** CONFORMANCE_SETTINGS as the environment of a service process (packages/core/src/config.ts ENV_VARS). */
export function conformanceEnv(): Record<string, string> {
  const s = CONFORMANCE_SETTINGS;
  return {
    IM_MAX_BODY_BYTES: String(s.maxBodyBytes),
    IM_HEARTBEAT_SECONDS: String(s.heartbeatSeconds),
    IM_PUSH_MAX_BODY_BYTES: String(s.pushMaxBodyBytes),
    IM_ACCEPT_PER_IP_PER_SECOND: String(s.acceptPerIpPerSecond),
    IM_ACCEPT_PER_IP_BURST: String(s.acceptPerIpBurst),
  };
}

export type TargetFactory = () => Promise<Target>;
