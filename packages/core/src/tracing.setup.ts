/**
 * Installs the OpenTelemetry tracer of a process from config.tracing (the standard OTEL_*
 * variables, read by config.ts like every other setting): the sampler, the service name and the
 * exporter (OTLP over HTTP, or the console), with a batching span processor. Without an exporter
 * (the default) nothing is installed and tracing.ts stays off. Each entry point calls this once
 * and `shutdown()` before it exits, so the last spans are flushed.
 */
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  type Sampler,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { Config } from './config.js';
import { useTracer } from './tracing.js';

export const TRACER_NAME = 'im';

export interface Tracing {
  /** Whether spans are recorded and exported. */
  readonly on: boolean;
  /** Flushes the spans not exported yet and turns tracing off. Safe to call twice. */
  shutdown(): Promise<void>;
}

const OFF: Tracing = { on: false, shutdown: async () => {} };

/** The exporter config.tracing names: '' means otlp when an endpoint is set, else none. */
export function tracingExporter(t: Config['tracing']): 'none' | 'otlp' | 'console' {
  if (t.disabled) return 'none';
  if (t.exporter) return t.exporter;
  return t.otlpEndpoint || t.otlpTracesEndpoint ? 'otlp' : 'none';
}

export function sampler(t: Config['tracing']): Sampler {
  const ratio = () => new TraceIdRatioBasedSampler(t.samplerArg);
  switch (t.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio() });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * Tracing for this process as config.tracing says; `spanProcessor` replaces the exporter's (tests
 * pass an in-memory one, and then tracing is on whatever the exporter setting).
 */
export function setupTracing(
  t: Config['tracing'],
  defaultServiceName: string,
  opts: { spanProcessor?: SpanProcessor } = {},
): Tracing {
  const exporter = tracingExporter(t);
  if (!opts.spanProcessor && exporter === 'none') return OFF;
  const processor =
    opts.spanProcessor ??
    new BatchSpanProcessor({
      exporter:
        exporter === 'console'
          ? new ConsoleSpanExporter()
          : new OTLPTraceExporter({
              url:
                t.otlpTracesEndpoint ||
                `${(t.otlpEndpoint || 'http://localhost:4318').replace(/\/$/, '')}/v1/traces`,
            }),
    });
  const provider = new TracerProvider({
    sampler: sampler(t),
    resource: resourceFromAttributes({ 'service.name': t.serviceName || defaultServiceName }),
    spanProcessors: [processor],
  });
  trace.setGlobalTracerProvider(provider);
  useTracer(provider.getTracer(TRACER_NAME));
  let closing: Promise<void> | null = null;
  return {
    on: true,
    shutdown() {
      closing ??= (async () => {
        useTracer(null);
        await provider.shutdown();
        trace.disable();
      })();
      return closing;
    },
  };
}
