/**
 * What the pair generator (pair-worker.ts) needs from a protocol: open one sender→recipient pair,
 * send a body from the sender, and report the ack and the push. One implementation per protocol
 * (pair-im.ts, pair-mqtt.ts), so the IM server and the MQTT brokers carry the same load from the
 * same generator.
 */
import type { Endpoint } from './args.js';

/** Events a driver reports; times are performance.now() of this process. */
export interface PairSink {
  /** The server answered a send with success (SendAck OK, PUBACK). `sentAt` is when it was written. */
  acked(sentAt: number): void;
  /** The server answered a send with an error status (its name). */
  failed(sentAt: number, status: string): void;
  /** The recipient got a message; `body` is the bytes the sender wrote (undefined if unreadable). */
  pushed(body: Uint8Array | undefined): void;
  /** Anything else worth counting: `closed`, `kicked`, `pull: ...`. */
  error(kind: string): void;
}

export interface SenderEnd {
  /**
   * Writes one message to this pair's recipient. The body is consumed before it returns; `at`
   * (performance.now()) is the send time the ack is timed from and the window is judged by.
   */
  send(body: Uint8Array, at: number): void;
  /** Sends written and not answered yet. */
  readonly outstanding: number;
  /** performance.now() of the last write (heartbeat bookkeeping). */
  readonly lastWriteAt: number;
  readonly dead: boolean;
}

export interface OpenPair {
  sender: SenderEnd;
  /** Keep both connections alive when idle for `idleMs` (PING); a no-op where the protocol needs none. */
  keepAlive(now: number): void;
  close(): void;
}

export interface PairDriver {
  /**
   * Opens pair `index`: the sender on `senderAt`, the recipient on `recipientAt`, both ready
   * (logged in, subscribed) when it resolves.
   */
  openPair(index: number, senderAt: Endpoint, recipientAt: Endpoint, sink: PairSink): Promise<OpenPair>;
}

/** Which driver a worker builds; `secret` is the IM edge's JWT secret. */
export type DriverSpec = { kind: 'im'; secret: string; tag: string } | { kind: 'mqtt'; tag: string };
