/**
 * The bus handler of one edge node (protocol.md §6 Delivery, Session): turns deliveries into
 * notify frames (flow = 2) for the local connections they name.
 *   message → MPS with the full Message and that user's seq (encrypt = 3 when end-to-end),
 *             to every local device of the user except excludeDeviceId;
 *   notify  → MN { head };
 *   room    → MPS (seq 0) to every local member connection of the chatroom but the sending one
 *             (protocol.md §6 Chatrooms: one delivery per node, fanned out here);
 *   kick    → if the local connection of (user, device) still has that epoch: LOGOUT notify
 *             with KICKED + ErrorInfo, then close — the route is NOT removed (it belongs to
 *             the newer connection; the epoch guard makes a late logout harmless anyway).
 * Frames of one batch for one socket are written in one cork.
 */
import { type Delivery, type EncodedMessage, endSpan, SpanKind, startSpan, type TraceSpan } from '@im/core';
import { Command, codec, Encrypt, Status, seqField } from '@im/protocol';
import type { Connection, NotifyFrame } from './connection.js';
import type { EdgeContext } from './context.js';

export function createDeliveryHandler(ctx: EdgeContext): (batch: Delivery[]) => Promise<void> {
  return async (batch) => {
    const out = new Map<Connection, NotifyFrame[]>();
    const kicks: Connection[] = [];
    const add = (conn: Connection, frame: NotifyFrame) => {
      const list = out.get(conn);
      if (list) list.push(frame);
      else out.set(conn, [frame]);
    };
    const targets = (userId: string, excludeDeviceId?: string) =>
      ctx.registry.devices(userId).filter((c) => c.deviceId !== excludeDeviceId);
    /** core tracing.ts: one span per sampled message this node writes, ended once the batch is written. */
    let spans: Map<EncodedMessage, TraceSpan> | null = null;
    const traced = (m: EncodedMessage, connections: number) => {
      if (!m.traceparent || spans?.has(m)) return;
      const span = startSpan('im.edge.deliver', SpanKind.CONSUMER, m.traceparent, {
        'im.node': ctx.nodeId,
        'im.connections': connections,
      });
      if (!span) return;
      spans ??= new Map();
      spans.set(m, span);
    };

    for (const d of batch) {
      if (d.nodeId !== ctx.nodeId) continue;
      switch (d.kind) {
        case 'message': {
          const conns = targets(d.userId, d.excludeDeviceId);
          if (conns.length === 0) break;
          // The message was encoded once by the fan-out; each user's MPS body is those bytes
          // followed by that user's seq (protocol.md §5: seq is the last field), shared by its devices.
          const frame: NotifyFrame = {
            command: Command.MPS,
            status: Status.OK,
            encrypt: d.message.e2e ? Encrypt.E2E : Encrypt.NONE,
            body: d.message.bytes,
            tail: seqField(d.seq),
            seq: d.seq,
          };
          for (const c of conns) add(c, frame);
          traced(d.message, conns.length);
          break;
        }
        case 'notify': {
          const conns = targets(d.userId, d.excludeDeviceId);
          if (conns.length === 0) break;
          const frame: NotifyFrame = {
            command: Command.MN,
            status: Status.OK,
            encrypt: Encrypt.NONE,
            body: codec.Notify.encode({ head: d.head }),
            seq: d.head,
          };
          for (const c of conns) add(c, frame);
          break;
        }
        case 'room': {
          const m = d.message;
          const conns = ctx.rooms
            .members(d.roomId)
            .filter((c) => !c.closing && !(c.userId === m.from && c.deviceId === m.fromDevice));
          if (conns.length === 0) break;
          // seq 0 (not stored): the encoded message as it is.
          const frame: NotifyFrame = {
            command: Command.MPS,
            status: Status.OK,
            encrypt: m.e2e ? Encrypt.E2E : Encrypt.NONE,
            body: m.bytes,
          };
          for (const c of conns) add(c, frame);
          traced(m, conns.length);
          break;
        }
        case 'kick': {
          const conn = ctx.registry.get(d.userId, d.deviceId);
          if (conn && conn.epoch === d.epoch) kicks.push(conn);
          else if (!conn || conn.epoch < d.epoch) ctx.kicks.remember(d.userId, d.deviceId, d.epoch);
          break;
        }
      }
    }
    for (const [conn, frames] of out) conn.sendNotifies(frames);
    if (spans) for (const span of (spans as Map<EncodedMessage, TraceSpan>).values()) endSpan(span);
    // After the frames of the batch, so a message delivered before the kick is not lost on the wire.
    for (const conn of kicks) conn.kick();
  };
}
