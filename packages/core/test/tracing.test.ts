/**
 * tracing.ts and tracing.setup.ts: off unless the OTEL_* settings name an exporter (or an OTLP
 * endpoint), the kill switch wins, the sampler is the one named, and a trace continues from a
 * traceparent string only when it was sampled (an unsampled MS carries nothing downstream).
 */
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import {
  endSpan,
  loadConfig,
  SpanKind,
  setupTracing,
  startSpan,
  type Tracing,
  traceparentOf,
  tracing,
  tracingExporter,
} from '../src/index.js';

let active: Tracing | null = null;
afterEach(async () => {
  await active?.shutdown();
  active = null;
});

const settings = (env: Record<string, string>) => loadConfig(env).tracing;

describe('tracing configuration (OTEL_*)', () => {
  it('is off by default: no exporter, nothing installed, call sites see tracing.on = false', () => {
    expect(tracingExporter(settings({}))).toBe('none');
    active = setupTracing(settings({}), 'im-test');
    expect(active.on).toBe(false);
    expect(tracing.on).toBe(false);
    expect(startSpan('x', SpanKind.SERVER, undefined, {}, true)).toBeUndefined();
  });

  it('an exporter or an OTLP endpoint turns it on; OTEL_SDK_DISABLED wins', () => {
    expect(tracingExporter(settings({ OTEL_TRACES_EXPORTER: 'console' }))).toBe('console');
    expect(tracingExporter(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }))).toBe('otlp');
    expect(tracingExporter(settings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' }))).toBe(
      'none',
    );
    expect(() => loadConfig({ OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
    expect(() => loadConfig({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/OTEL_TRACES_SAMPLER/);
  });
});

describe('trace context in the data (traceparent)', () => {
  it('a child continues the trace of the traceparent it is given', () => {
    const exporter = new InMemorySpanExporter();
    active = setupTracing(settings({}), 'im-test', { spanProcessor: new SimpleSpanProcessor({ exporter }) });
    const root = startSpan('root', SpanKind.SERVER, undefined, {}, true);
    const tp = traceparentOf(root);
    expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const child = startSpan('child', SpanKind.CONSUMER, tp);
    endSpan(child);
    endSpan(root, new Error('boom'));
    const [c, r] = exporter.getFinishedSpans();
    expect(c?.spanContext().traceId).toBe(r?.spanContext().traceId);
    expect(c?.parentSpanContext?.spanId).toBe(r?.spanContext().spanId);
    expect(r?.status.message).toBe('boom');
    // A child without a usable parent records nothing.
    expect(startSpan('orphan', SpanKind.SERVER, undefined)).toBeUndefined();
    expect(startSpan('orphan', SpanKind.SERVER, 'not-a-traceparent')).toBeUndefined();
  });

  it('an MS the sampler leaves out carries no traceparent (the other hops do nothing)', () => {
    const exporter = new InMemorySpanExporter();
    const t = settings({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' });
    active = setupTracing(t, 'im-test', { spanProcessor: new SimpleSpanProcessor({ exporter }) });
    const root = startSpan('root', SpanKind.SERVER, undefined, {}, true);
    expect(traceparentOf(root)).toBeUndefined();
    endSpan(root);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
