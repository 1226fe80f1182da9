#!/usr/bin/env node
/**
 * A do-nothing OTLP/HTTP receiver for measuring the cost of tracing (docs/benchmarks.md
 * "Tracing overhead"): it answers every POST /v1/traces with 200 and counts the spans it was sent,
 * so the exporters of the processes under test do their whole job without a collector.
 *   node scripts/otlp-sink.mjs [port]     (default 4318; prints the span count every 5 s)
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 4318);
let spans = 0;
let requests = 0;

createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    requests++;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const r of body.resourceSpans ?? [])
        for (const s of r.scopeSpans ?? []) spans += s.spans?.length ?? 0;
    } catch {
      // A protobuf body (another exporter): counted as a request only.
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
}).listen(port, '127.0.0.1', () => process.stdout.write(`OTLP sink on http://127.0.0.1:${port}\n`));

setInterval(
  () => process.stdout.write(`${new Date().toISOString()} requests ${requests} spans ${spans}\n`),
  5_000,
).unref();
process.on('SIGINT', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
