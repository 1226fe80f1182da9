/** MS (protocol.md §4, §6 Send): Message → SendAck, stored durably before the ack. */
import { endSpan, SpanKind, startSpan, traceparentOf, tracing } from '@im/core';
import { codec } from '@im/protocol';
import type { Connection } from '../connection.js';
import type { EdgeContext } from '../context.js';
import type { Reply, Request } from '../dispatch.js';

/**
 * The body goes to the message service as the client sent it (after decryption and
 * decompression): the service decodes it, once, with the same caps (docs/architecture.md).
 */
export async function send(ctx: EdgeContext, conn: Connection, req: Request): Promise<Reply> {
  if (tracing.on) return tracedSend(ctx, conn, req);
  const ack = await ctx.message.send(conn.caller(), req.body, { e2e: req.e2e });
  conn.told(ack.seq);
  return { body: codec.SendAck.encode(ack) };
}

/**
 * core tracing.ts: the trace of one MS starts here (the sampler decides); its context goes with
 * the send to the message service, storage, the fan-out and the delivering edges.
 */
async function tracedSend(ctx: EdgeContext, conn: Connection, req: Request): Promise<Reply> {
  const span = startSpan(
    'im.edge.MS',
    SpanKind.SERVER,
    undefined,
    { 'im.node': ctx.nodeId, 'im.user': conn.userId, 'im.transport': conn.transport },
    true,
  );
  try {
    const ack = await ctx.message.send(conn.caller(), req.body, {
      e2e: req.e2e,
      traceparent: traceparentOf(span),
    });
    conn.told(ack.seq);
    span?.setAttributes({ 'im.message_uid': String(ack.messageUid), 'im.seq': ack.seq });
    endSpan(span);
    return { body: codec.SendAck.encode(ack) };
  } catch (err) {
    endSpan(span, err);
    throw err;
  }
}
