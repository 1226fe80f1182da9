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
 * Frames are written as they are met, in batch order: each socket stays corked for the rest of the
 * turn (write-flush.ts), so the frames of one batch for one socket still leave in one write.
 */
import { type Delivery, type EncodedMessage, endSpan, SpanKind, startSpan, type TraceSpan } from '@im/core';
import { Command, codec, Encrypt, Status, seqField } from '@im/protocol';
import type { Connection, NotifyFrame } from './connection.js';
import type { EdgeContext } from './context.js';

export function createDeliveryHandler(ctx: EdgeContext): (batch: Delivery[]) => Promise<void> {
  return async (batch) => {
    let kicks: Connection[] | null = null;
    /** core tracing.ts: one span per sampled message this node writes, ended once the batch is written. */
    let spans: Map<EncodedMessage, TraceSpan> | null = null;
    for (const d of batch) {
      if (d.nodeId !== ctx.nodeId) continue;
      switch (d.kind) {
        case 'message': {
          const devices = ctx.registry.devicesOf(d.userId);
          if (!devices) break;
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
          const n = deliverTo(devices, d.excludeDeviceId, frame);
          if (n > 0 && d.message.traceparent) spans = traced(ctx, spans, d.message, n);
          break;
        }
        case 'notify': {
          const devices = ctx.registry.devicesOf(d.userId);
          if (!devices) break;
          deliverTo(devices, d.excludeDeviceId, {
            command: Command.MN,
            status: Status.OK,
            encrypt: Encrypt.NONE,
            body: codec.Notify.encode({ head: d.head }),
            seq: d.head,
          });
          break;
        }
        case 'room': {
          const m = d.message;
          // seq 0 (not stored): the encoded message as it is.
          const frame: NotifyFrame = {
            command: Command.MPS,
            status: Status.OK,
            encrypt: m.e2e ? Encrypt.E2E : Encrypt.NONE,
            body: m.bytes,
          };
          let n = 0;
          for (const c of ctx.rooms.members(d.roomId)) {
            if (c.closing || (c.userId === m.from && c.deviceId === m.fromDevice)) continue;
            c.deliver(frame);
            n++;
          }
          if (n > 0 && m.traceparent) spans = traced(ctx, spans, m, n);
          break;
        }
        case 'kick': {
          const conn = ctx.registry.get(d.userId, d.deviceId);
          if (conn && conn.epoch === d.epoch) {
            kicks ??= [];
            kicks.push(conn);
          } else if (!conn || conn.epoch < d.epoch) ctx.kicks.remember(d.userId, d.deviceId, d.epoch);
          break;
        }
      }
    }
    // Every frame above is written by now (the sockets stay corked for the rest of the turn).
    if (spans) for (const span of (spans as Map<EncodedMessage, TraceSpan>).values()) endSpan(span);
    // After the frames of the batch, so a message delivered before the kick is not lost on the wire.
    if (kicks) for (const conn of kicks) conn.kick();
  };
}

/** `frame` to every device of a user but `exclude` (the sending device); how many got it. */
function deliverTo(
  devices: ReadonlyMap<string, Connection>,
  exclude: string | undefined,
  frame: NotifyFrame,
): number {
  let n = 0;
  for (const c of devices.values()) {
    if (c.deviceId === exclude) continue;
    c.deliver(frame);
    n++;
  }
  return n;
}

/** core tracing.ts: a span for a sampled message written to `connections` local connections. */
function traced(
  ctx: EdgeContext,
  spans: Map<EncodedMessage, TraceSpan> | null,
  m: EncodedMessage,
  connections: number,
): Map<EncodedMessage, TraceSpan> | null {
  if (!m.traceparent || spans?.has(m)) return spans;
  const span = startSpan('im.edge.deliver', SpanKind.CONSUMER, m.traceparent, {
    'im.node': ctx.nodeId,
    'im.connections': connections,
  });
  if (!span) return spans;
  const out = spans ?? new Map<EncodedMessage, TraceSpan>();
  out.set(m, span);
  return out;
}
