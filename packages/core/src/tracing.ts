/**
 * Traces of one message across the cluster (docs/architecture.md "Tracing"): the edge that reads
 * an MS starts a trace; its context travels as a W3C `traceparent` string IN THE DATA — per item
 * of the batched gRPC streams (SendItem, AppendItem) and per message of the Kafka DeliveryBatch
 * records (DeliveredMessage) — because one stream message or record carries many messages, each of
 * its own trace. Each hop continues the trace from that string; nothing relies on an async context,
 * so a span's parent is always the one the data says.
 *
 * Off by default (config.tracing; tracing.setup.ts installs a provider): then `tracing.on` is false
 * and every call site skips its span with one boolean test, no allocation. Only sampled traces are
 * propagated: a message the edge did not sample carries no traceparent and costs the other hops
 * nothing either.
 */
import {
  type Attributes,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';

export type { Span as TraceSpan };
export { SpanKind };

/** The process's tracing switch and tracer; set by tracing.setup.ts (or a test's provider). */
export const tracing: { on: boolean; tracer: Tracer | null } = { on: false, tracer: null };

/** Turns tracing on with this tracer (null: off). */
export function useTracer(tracer: Tracer | null): void {
  tracing.tracer = tracer;
  tracing.on = tracer !== null;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * Starts a span, child of `parent` (a traceparent) or a root when parent is undefined. Returns
 * undefined when tracing is off, or when a child's parent is missing or malformed: a hop whose
 * message was not sampled records nothing.
 */
export function startSpan(
  name: string,
  kind: SpanKind,
  parent: string | undefined,
  attributes?: Attributes,
  root = false,
): Span | undefined {
  const tracer = tracing.tracer;
  if (!tracer) return undefined;
  if (root) return tracer.startSpan(name, { kind, attributes, root: true }, ROOT_CONTEXT);
  const m = parent ? TRACEPARENT.exec(parent) : null;
  if (!m) return undefined;
  const ctx = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: m[1] as string,
    spanId: m[2] as string,
    traceFlags: Number.parseInt(m[3] as string, 16),
    isRemote: true,
  });
  return tracer.startSpan(name, { kind, attributes }, ctx);
}

/** The W3C traceparent of a span, or undefined when it is not sampled (nothing to continue). */
export function traceparentOf(span: Span | undefined): string | undefined {
  if (!span?.isRecording()) return undefined;
  const c = span.spanContext();
  if ((c.traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
  return `00-${c.traceId}-${c.spanId}-01`;
}

/** Ends a span with an error status when `err` is given. */
export function endSpan(span: Span | undefined, err?: unknown): void {
  if (!span) return;
  if (err !== undefined) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  }
  span.end();
}
